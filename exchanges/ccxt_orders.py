"""Orders through ccxt, by the venue's form of our client order id.

- The venue's client id is derived from ours by the venue's `ClientIdFormat` (the journal
  stores it beside ours); every look-up uses it, and a found order must be the same order
  (side and size), or the ids collided and nothing is trusted.
- `place` looks the id up first and returns what the venue already has; on a venue whose
  reply to a new order is not trusted (`confirm_by_lookup`) the placement is confirmed by
  finding it. A reply that cannot be read after the venue took the order is an unknown
  outcome (look it up), never a rejection.
- A filled order's average price and fee come from the venue's fills of it where the order
  itself does not carry them: never a 0 or None for a fill that happened.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import ccxt

from core.enums import TERMINAL_ORDER_STATUSES
from exchanges.base import (
    Capability,
    MalformedResponseError,
    OrderRejectedError,
    OrderRequest,
    UnknownOutcomeError,
    VenueOrder,
)
from exchanges.ccxt_parsing import CcxtParser, translate_error
from exchanges.ccxt_session import PARSE_FAILURES, CcxtSession
from exchanges.venue_quirks import Lookup


class CcxtOrders:
    def __init__(self, session: CcxtSession, parser: CcxtParser) -> None:
        self._session = session
        self._parser = parser
        self._quirks = session.quirks
        self.venue = session.venue

    def venue_client_id(self, client_order_id: str) -> str:
        return self._quirks.client_ids.derive(client_order_id)

    # ---------------------------------------------------------------- place

    def place(self, request: OrderRequest) -> VenueOrder:
        session = self._session
        session.require(Capability.TRADING)
        session.require(Capability.CLIENT_ORDER_ID_LOOKUP)
        existing = self.lookup(request.symbol, request.client_order_id, request)
        if existing is not None:
            return existing
        ccxt_symbol = session.market(request.symbol)["symbol"]
        vcid = self.venue_client_id(request.client_order_id)
        params: dict[str, Any] = {"clientOrderId": self._quirks.client_ids.ccxt_value(vcid)}
        if request.reduce_only:
            params["reduceOnly"] = True
        if request.post_only:
            params["postOnly"] = True
        price = None if request.price is None else float(request.price)
        try:
            raw = session.exchange.create_order(
                ccxt_symbol,
                request.order_type.value,
                request.side.value,
                float(request.quantity),  # ccxt's boundary is float; it re-rounds to the step
                price,
                params,
            )
        except ccxt.DuplicateOrderId:
            found = self.lookup(request.symbol, request.client_order_id, request)
            if found is None:
                raise OrderRejectedError(
                    self.venue, f"order {request.client_order_id}: duplicate id but not found"
                ) from None
            return found
        except ccxt.BaseError as exc:
            raise translate_error(self.venue, "create_order", exc, side_effect=True) from exc
        except PARSE_FAILURES as exc:  # ccxt could not read the reply: the order may be placed
            if not self._quirks.confirm_by_lookup:
                raise UnknownOutcomeError(
                    self.venue, f"create_order: {session.unreadable('reply', exc)}"
                ) from exc
            raw = {}  # its reply is not read there anyway
        return self._confirm(raw, request, ccxt_symbol)

    def _confirm(
        self, raw: Mapping[str, Any], request: OrderRequest, ccxt_symbol: str
    ) -> VenueOrder:
        cid = request.client_order_id
        if self._quirks.confirm_by_lookup:
            found = self.lookup(request.symbol, cid, request)
            if found is None:
                raise UnknownOutcomeError(
                    self.venue, f"create_order: order {cid} accepted but not found by its id yet"
                )
            return found
        try:
            return self._parser.order(
                self._with_fills(raw, ccxt_symbol), cid, request.symbol, request
            )
        except MalformedResponseError as exc:
            raise UnknownOutcomeError(
                self.venue, f"create_order: the venue took order {cid}; its reply: {exc}"
            ) from exc

    # ---------------------------------------------------------------- look up

    def lookup(
        self, symbol: str, client_order_id: str, request: OrderRequest | None = None
    ) -> VenueOrder | None:
        """The venue's order for our client id, or None if the venue never received it."""
        session = self._session
        vcid = self.venue_client_id(client_order_id)
        ccxt_symbol = session.market(symbol)["symbol"]
        exchange = session.exchange
        if self._quirks.lookup is Lookup.FETCH_ORDER:
            params = {"clientOrderId": self._quirks.client_ids.ccxt_value(vcid)}

            def fetch() -> Mapping[str, Any] | None:
                try:
                    answer = exchange.fetch_order("", ccxt_symbol, params)
                except ccxt.OrderNotFound:
                    return None
                return None if answer is None else session.answer_object("fetch_order", answer)

            raw = session.read("fetch_order", fetch)
            candidates = [] if raw is None or _empty(raw) else [raw]
        else:
            candidates = list(
                session.read("fetch_open_orders", lambda: exchange.fetch_open_orders(ccxt_symbol))
            )
            recent = (
                exchange.fetch_closed_orders
                if session.has("fetchClosedOrders")
                else (exchange.fetch_orders)
            )
            candidates += session.read("fetch_recent_orders", lambda: recent(ccxt_symbol))
        matches = [raw for raw in candidates if str(raw.get("clientOrderId")) == vcid]
        for raw in matches:
            if raw.get("symbol") != ccxt_symbol:
                raise MalformedResponseError(
                    self.venue,
                    f"order with client id {vcid} is on {raw.get('symbol')!r}, "
                    f"not {ccxt_symbol}: the ids collided; nothing is trusted",
                )
        if self._quirks.lookup is Lookup.FETCH_ORDER and candidates and not matches:
            raise MalformedResponseError(
                self.venue,
                f"fetch_order: asked for client id {vcid}, got "
                f"{candidates[0].get('clientOrderId')!r}",
            )
        if not matches:
            return None
        order = self._parser.order(
            self._with_fills(matches[0], ccxt_symbol), client_order_id, symbol, request
        )
        self._same_order(order, request)
        return order

    def _same_order(self, order: VenueOrder, request: OrderRequest | None) -> None:
        if request is None:
            return
        if order.side is not request.side or order.quantity != request.quantity:
            raise MalformedResponseError(
                self.venue,
                f"client id of {request.client_order_id} holds a different order on the venue "
                f"({order.side} {order.quantity}, not {request.side} {request.quantity}): "
                "the ids collided; nothing is sent",
            )

    def _with_fills(self, raw: Mapping[str, Any], ccxt_symbol: str) -> Mapping[str, Any]:
        """The order with its average price and fee from the venue's fills, when it has
        fills but does not carry them itself."""
        filled = raw.get("filled")
        if not filled or (
            raw.get("average") is not None and (raw.get("fee") or {}).get("cost") is not None
        ):
            return raw
        session = self._session
        if not self._quirks.fills_price_orders or raw.get("id") is None:
            return raw  # the parser refuses the order for its missing fields
        trades = session.read(
            "fetch_my_trades", lambda: session.exchange.fetch_my_trades(ccxt_symbol)
        )
        filled_qty = self._parser.check.step(filled, "order", "filled")
        settle = str(session.exchange.market(ccxt_symbol)["settle"])
        average, fee = self._parser.fills(trades, str(raw["id"]), filled_qty, settle)
        return {**raw, "average": average, "fee": {"cost": fee}}

    # ---------------------------------------------------------------- cancel

    def cancel(self, symbol: str, client_order_id: str) -> VenueOrder:
        session = self._session
        session.require(Capability.CANCEL_ORDER)
        session.require(Capability.CLIENT_ORDER_ID_LOOKUP)
        order = self.lookup(symbol, client_order_id)
        if order is None or order.venue_order_id is None:
            raise OrderRejectedError(self.venue, f"cancel: no {symbol} order {client_order_id}")
        if order.status in TERMINAL_ORDER_STATUSES:
            return order  # nothing left to cancel
        ccxt_symbol = session.market(symbol)["symbol"]
        venue_order_id = order.venue_order_id

        def cancel() -> None:
            # Not found: finished (filled or cancelled) meanwhile; report what it is now.
            with contextlib.suppress(ccxt.OrderNotFound):
                session.exchange.cancel_order(venue_order_id, ccxt_symbol)

        session.read("cancel_order", cancel)  # a cancel is safe to repeat
        current = self.lookup(symbol, client_order_id)
        return current if current is not None else order


def _empty(raw: Mapping[str, Any]) -> bool:
    """ccxt's empty order for "unknown order id" (Hyperliquid answers an unknown cloid so)."""
    return all(raw.get(key) is None for key in ("id", "clientOrderId", "status"))
