"""Send orders so that a retry can never place a second one.

The rules (DESIGN.md §4):
1. the intent is recorded in the journal (committed) before any venue call;
2. the record is marked SENT (committed) just before the call, so a crash while sending
   leaves a record that says "look it up";
3. a record that is SENT or UNKNOWN is looked up on the venue by its client id before
   anything is resent; only a venue that has never seen it gets it again;
4. a timeout after sending (`UnknownOutcomeError`) is resolved by a lookup; if the venue
   still does not know, the record stays UNKNOWN and the caller (or the reconciler) must
   resolve it — it is never blindly resent in the same call;
5. a transient error before anything reached the venue returns the record to INTENT (safe to
   send again) and is re-raised for the caller's retry policy.

Venues that deduplicate client ids themselves make rule 3 airtight; for venues that do not,
an order still in flight when the lookup runs is the residual risk, which is why a lookup
miss right after an UnknownOutcomeError is not followed by a resend in the same call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from core.enums import OrderStatus
from exchanges.base import (
    ExchangeClient,
    OrderRejectedError,
    TransientExchangeError,
    UnknownOutcomeError,
)
from strategies.components.base_components import ComponentMissingError
from strategies.components.order_journal import OrderIntent, OrderJournal, OrderRecord

logger = logging.getLogger(__name__)

_NEEDS_LOOKUP = (OrderStatus.SENT, OrderStatus.UNKNOWN)
_LIVE = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class OrderExecutor:
    def __init__(self, journal: OrderJournal, exchanges: Mapping[str, ExchangeClient]) -> None:
        self._journal = journal
        self._exchanges = exchanges

    @property
    def journal(self) -> OrderJournal:
        return self._journal

    def _client(self, venue: str) -> ExchangeClient:
        try:
            return self._exchanges[venue]
        except KeyError:
            raise ComponentMissingError(f"no exchange client for venue {venue!r}") from None

    def submit(self, intent: OrderIntent) -> OrderRecord:
        """Place `intent` once, whatever happened to earlier attempts with its client id."""
        record = self._journal.record_intent(intent)
        if record.is_terminal:
            return record
        if record.status in _LIVE:
            return self.refresh(record.client_order_id)
        if record.status in _NEEDS_LOOKUP:
            found = self._lookup(intent)
            if found is not None:
                return found
            if record.status is OrderStatus.UNKNOWN:
                logger.warning(
                    "%s: venue does not know the order after an unknown outcome; resending",
                    intent.client_order_id,
                )
        return self._send(intent)

    def _send(self, intent: OrderIntent) -> OrderRecord:
        client = self._client(intent.venue)
        self._journal.set_status(intent.client_order_id, OrderStatus.SENT)
        try:
            venue_order = client.place_order(intent.request())
        except OrderRejectedError as exc:
            return self._journal.set_status(intent.client_order_id, OrderStatus.REJECTED, str(exc))
        except UnknownOutcomeError as exc:
            found = self._lookup(intent)
            if found is not None:
                return found
            return self._journal.set_status(intent.client_order_id, OrderStatus.UNKNOWN, str(exc))
        except TransientExchangeError as exc:
            self._journal.set_status(intent.client_order_id, OrderStatus.INTENT, str(exc))
            raise
        return self._journal.record_venue_state(venue_order)

    def _lookup(self, intent: OrderIntent) -> OrderRecord | None:
        try:
            found = self._client(intent.venue).get_order(intent.symbol, intent.client_order_id)
        except (TransientExchangeError, UnknownOutcomeError) as exc:
            logger.warning("%s: lookup failed: %s", intent.client_order_id, exc)
            return self._journal.set_status(intent.client_order_id, OrderStatus.UNKNOWN, str(exc))
        if found is None:
            return None
        return self._journal.record_venue_state(found)

    def refresh(self, client_order_id: str) -> OrderRecord:
        """Bring the record up to date with the venue (fills, cancels)."""
        record = self._require(client_order_id)
        if record.is_terminal or record.status is OrderStatus.INTENT:
            return record
        found = self._lookup(record.intent)
        if found is not None:
            return found
        if record.status in _NEEDS_LOOKUP:
            # The venue has never seen it: nothing was placed.
            return self._journal.set_status(
                client_order_id, OrderStatus.CANCELLED, "venue has no such order"
            )
        return record

    def cancel(self, client_order_id: str) -> OrderRecord:
        """Cancel a resting order; an order already done is returned as it is."""
        record = self.refresh(client_order_id)
        if record.is_terminal or record.status is OrderStatus.UNKNOWN:
            return record
        if record.status is OrderStatus.INTENT:
            return self._journal.set_status(client_order_id, OrderStatus.CANCELLED, "never sent")
        intent = record.intent
        try:
            venue_order = self._client(intent.venue).cancel_order(intent.symbol, client_order_id)
        except OrderRejectedError:
            # Typically "already filled or cancelled": the venue's state decides.
            return self.refresh(client_order_id)
        return self._journal.record_venue_state(venue_order)

    def _require(self, client_order_id: str) -> OrderRecord:
        record = self._journal.get(client_order_id)
        if record is None:
            raise KeyError(f"no order with client id {client_order_id!r}")
        return record
