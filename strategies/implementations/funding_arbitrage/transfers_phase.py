"""The transfers phase: which venue needs margin from which, recorded as a decision.

Moving money between venues is the fund-transfer manager's job (withdraw, bridge, deposit,
each step idempotent). This phase decides what should move (`margin.transfer_needs`) and
records it as a `transfer.requested` event once per need: the needs being waited on are
kept in the strategy's state, so a need is announced when it appears or changes, and a
`transfer.need_resolved` event says when it is gone.

When a transfer manager is injected (paper deployments), every current need is handed to
it: `request_transfer` is idempotent per route, so a need already being served returns the
transfer in flight and nothing new is made. Without one (live: no wallet or bridge adapters
exist) the need is only recorded, for an operator to act on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.errors import PerpbotError
from core.money import quantize_down
from exchanges.base import Balance, ExchangeClient, ExchangeError
from strategies.components.base_components import StateMutation, VersionedState
from strategies.components.transfer_port import TransferRequester, TransfersUnavailableError
from strategies.implementations.funding_arbitrage.config import VenueSettings
from strategies.implementations.funding_arbitrage.margin import transfer_needs
from strategies.implementations.funding_arbitrage.models import PhaseSkipped, TransferNeed

STATE_KEY = "transfer_requests"
EventRecorder = Callable[[str, Mapping[str, Any] | None], None]
# Transfer amounts carry at most 6 decimals (USDC); a need is rounded down to that.
AMOUNT_STEP = Decimal("0.000001")


class TransferRequests:
    def __init__(
        self,
        venues: Sequence[VenueSettings],
        exchange: Callable[[str], ExchangeClient],
        update_state: Callable[[StateMutation], VersionedState],
        record_event: EventRecorder,
        requester: TransferRequester,
        strategy_name: str,
    ) -> None:
        self._venues = venues
        self._exchange = exchange
        self._update_state = update_state
        self._event = record_event
        self._requester = requester
        self._strategy = strategy_name

    def run(self, now: datetime) -> list[object]:
        balances: dict[str, Balance] = {}
        results: list[object] = []
        for settings in self._venues:
            try:
                balances[settings.name] = self._exchange(settings.name).balance()
            except ExchangeError as exc:
                results.append(PhaseSkipped("transfers", f"{settings.name}: {exc}"))
        needs = transfer_needs(balances, self._venues)
        current = {_key(n): n for n in needs}
        announced: dict[str, TransferNeed] = {}
        resolved: list[str] = []

        def mutate(state: dict[str, Any]) -> Mapping[str, Any]:
            announced.clear()
            resolved.clear()
            pending: dict[str, Any] = dict(state.get(STATE_KEY) or {})
            for key, need in current.items():
                seen = pending.get(key)
                if seen is None or Decimal(str(seen["amount_usd"])) != need.amount_usd:
                    announced[key] = need
            resolved.extend(sorted(set(pending) - set(current)))
            waiting = {
                key: {"amount_usd": need.amount_usd, "since": now}
                if key in announced
                else pending[key]
                for key, need in current.items()
            }
            return {**state, STATE_KEY: waiting}

        self._update_state(mutate)
        for key, need in announced.items():
            self._event(
                "transfer.requested",
                {
                    "from_venue": need.from_venue,
                    "to_venue": need.to_venue,
                    "amount_usd": need.amount_usd,
                    "reason": need.reason,
                    "key": key,
                },
            )
        for key in resolved:
            self._event("transfer.need_resolved", {"key": key})
        for need in needs:
            requested = self._request(need)
            if requested is not None:
                results.append(requested)
        return [*results, *needs]

    def _request(self, need: TransferNeed) -> object | None:
        accounts = {v.name: v.account or "main" for v in self._venues}
        amount = quantize_down(need.amount_usd, AMOUNT_STEP)
        try:
            result = self._requester.request_transfer(
                need.from_venue,
                need.to_venue,
                amount,
                from_account=accounts[need.from_venue],
                to_account=accounts[need.to_venue],
                reason=need.reason,
                strategy_name=self._strategy,
            )
        except TransfersUnavailableError:  # no transfers here: the need stays recorded only
            return None
        except PerpbotError as exc:  # refused (too small, not allowlisted...): nothing stored
            self._event("transfer.refused", {"key": _key(need), "error": str(exc)})
            return PhaseSkipped("transfers", f"{_key(need)}: {exc}")
        if result.created:
            self._event(
                "transfer.started",
                {"key": _key(need), "amount_usd": amount, "transfer_id": str(result.record.id)},
            )
        return result


def _key(need: TransferNeed) -> str:
    return f"{need.from_venue}->{need.to_venue}"
