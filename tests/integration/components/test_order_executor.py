"""Order journal (both backends, one contract) and the executor's no-duplicate rules."""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from core.clock import SystemClock
from core.enums import OrderSide, OrderStatus, OrderType
from db.models import StrategyPosition
from exchanges.base import (
    OrderRejectedError,
    TransientExchangeError,
    UnknownOutcomeError,
    VenueOrder,
)
from strategies.components.order_executor import OrderExecutor
from strategies.components.order_journal import (
    InMemoryOrderJournal,
    OrderIntent,
    OrderIntentConflictError,
    PostgresOrderJournal,
)
from strategies.components.sessions import savepoint_scope


@pytest.fixture(params=["memory", "postgres"])
def journal(request, db_session):
    if request.param == "memory":
        return InMemoryOrderJournal()
    return PostgresOrderJournal(savepoint_scope(db_session), SystemClock())


def intent(cid="pos-long-open", qty="0.5", **kw):
    values = dict(
        client_order_id=cid,
        strategy_name="arb",
        venue="paradex",
        symbol="BTC",
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        quantity=D(qty),
        purpose="open",
    )
    values.update(kw)
    return OrderIntent(**values)


class ScriptedVenue:
    """A DEX stand-in (no real venue runs here) that records every order it executed."""

    name = "paradex"

    def __init__(self, script=()):
        self.script = list(script)  # behaviours for successive place_order calls
        self.executed: dict[str, VenueOrder] = {}
        self.place_calls = 0
        self.lookup_fails = False

    def _fill(self, request):
        order = VenueOrder(
            "paradex",
            request.client_order_id,
            f"v-{request.client_order_id}",
            request.symbol,
            request.side,
            request.order_type,
            request.quantity,
            request.price,
            OrderStatus.FILLED,
            request.quantity,
            D(100),
            D("0.02"),
        )
        self.executed[request.client_order_id] = order
        return order

    def place_order(self, request):
        self.place_calls += 1
        if request.client_order_id in self.executed:
            return self.executed[request.client_order_id]
        behaviour = self.script.pop(0) if self.script else "fill"
        if behaviour == "reject":
            raise OrderRejectedError("paradex", "insufficient margin")
        if behaviour == "transient":
            raise TransientExchangeError("paradex", "503")
        if behaviour == "timeout-after-fill":
            self._fill(request)
            raise UnknownOutcomeError("paradex", "timed out")
        if behaviour == "timeout-lost":
            raise UnknownOutcomeError("paradex", "timed out")
        if behaviour == "rest":
            order = replace(
                self._fill(request),
                status=OrderStatus.OPEN,
                filled_qty=D(0),
                avg_fill_price=None,
                fee=D(0),
            )
            self.executed[request.client_order_id] = order
            return order
        return self._fill(request)

    def get_order(self, symbol, client_order_id):
        if self.lookup_fails:
            raise TransientExchangeError("paradex", "lookup 503")
        return self.executed.get(client_order_id)

    def cancel_order(self, symbol, client_order_id):
        order = self.executed[client_order_id]
        if order.status is OrderStatus.FILLED:
            raise OrderRejectedError("paradex", "already filled")
        cancelled = replace(order, status=OrderStatus.CANCELLED)
        self.executed[client_order_id] = cancelled
        return cancelled


def test_same_intent_twice_is_one_record(journal):
    first = journal.record_intent(intent())
    again = journal.record_intent(intent())
    assert first == again
    assert first.status is OrderStatus.INTENT
    assert journal.find("arb") == [first]


def test_a_different_order_under_a_used_client_id_is_refused(journal):
    journal.record_intent(intent())
    with pytest.raises(OrderIntentConflictError, match="already used for a different order"):
        journal.record_intent(intent(qty="0.6"))


@pytest.fixture(params=["memory", "postgres"])
def journal_with_venue_ids(request, db_session):
    def venue_ids(venue, client_order_id):  # a venue with short, hashed ids: "a-..." collide
        return client_order_id[:3] if venue == "paradex" else client_order_id

    if request.param == "memory":
        return InMemoryOrderJournal(venue_ids)
    return PostgresOrderJournal(savepoint_scope(db_session), SystemClock(), venue_ids)


def test_the_venues_client_id_is_kept_beside_ours(journal_with_venue_ids, db_session):
    record = journal_with_venue_ids.record_intent(intent("pos-1-long"))
    assert record.venue_client_order_id == "pos"
    assert journal_with_venue_ids.get("pos-1-long").venue_client_order_id == "pos"
    assert journal_with_venue_ids.record_intent(intent("pos-1-long")) == record
    other_venue = journal_with_venue_ids.record_intent(intent("pos-2-long", venue="lighter"))
    assert other_venue.venue_client_order_id == "pos-2-long"


def test_two_intents_the_venue_could_not_tell_apart_are_refused(journal_with_venue_ids):
    journal_with_venue_ids.record_intent(intent("pos-1-long"))
    with pytest.raises(OrderIntentConflictError, match="'pos' of 'pos-2-long' is already held by"):
        journal_with_venue_ids.record_intent(intent("pos-2-long"))
    assert journal_with_venue_ids.get("pos-2-long") is None


def test_journal_filters(journal, db_session):
    at = SystemClock().now()
    position = StrategyPosition(
        strategy_name="arb",
        symbol="BTC",
        long_dex="paradex",
        short_dex="lighter",
        size_usd=D(100),
        created_at=at,
        updated_at=at,
    )
    db_session.add(position)
    db_session.flush()
    pid = position.id
    journal.record_intent(intent("a", position_id=pid))
    journal.record_intent(intent("b", purpose="close"))
    journal.set_status("b", OrderStatus.REJECTED, "nope")
    assert [r.client_order_id for r in journal.find("arb", position_id=pid)] == ["a"]
    assert [r.client_order_id for r in journal.find("arb", purpose="close")] == ["b"]
    assert [r.client_order_id for r in journal.find("arb", statuses=[OrderStatus.INTENT])] == ["a"]
    assert journal.get("b").error == "nope"
    assert journal.get("zzz") is None
    with pytest.raises(KeyError):
        journal.set_status("zzz", OrderStatus.SENT)


def test_fill_is_recorded(journal):
    venue = ScriptedVenue()
    record = OrderExecutor(journal, {"paradex": venue}).submit(intent())
    assert record.status is OrderStatus.FILLED
    assert record.filled_qty == D("0.5") and record.fee_usd == D("0.02")
    assert journal.get("pos-long-open").venue_order_id == "v-pos-long-open"


def test_resubmitting_a_filled_intent_never_places_again(journal):
    venue = ScriptedVenue()
    executor = OrderExecutor(journal, {"paradex": venue})
    executor.submit(intent())
    executor.submit(intent())
    assert venue.place_calls == 1


def test_timeout_after_fill_is_resolved_by_lookup_not_resend(journal):
    venue = ScriptedVenue(["timeout-after-fill"])
    executor = OrderExecutor(journal, {"paradex": venue})
    record = executor.submit(intent())
    assert record.status is OrderStatus.FILLED
    executor.submit(intent())
    assert venue.place_calls == 1 and len(venue.executed) == 1


def test_lost_order_stays_unknown_then_a_later_submit_sends_it_once(journal):
    venue = ScriptedVenue(["timeout-lost"])
    executor = OrderExecutor(journal, {"paradex": venue})
    assert executor.submit(intent()).status is OrderStatus.UNKNOWN
    assert executor.submit(intent()).status is OrderStatus.FILLED
    assert venue.place_calls == 2 and len(venue.executed) == 1


def test_crash_after_marking_sent_is_resolved_by_lookup(journal):
    venue = ScriptedVenue()
    executor = OrderExecutor(journal, {"paradex": venue})
    journal.record_intent(intent())
    journal.set_status("pos-long-open", OrderStatus.SENT)
    venue._fill(intent().request())  # the venue got it before the process died
    assert executor.submit(intent()).status is OrderStatus.FILLED
    assert venue.place_calls == 0


def test_rejection_is_final_and_transient_errors_can_be_retried(journal):
    venue = ScriptedVenue(["reject"])
    executor = OrderExecutor(journal, {"paradex": venue})
    rejected = executor.submit(intent("r"))
    assert rejected.status is OrderStatus.REJECTED and "insufficient margin" in rejected.error
    assert executor.submit(intent("r")).status is OrderStatus.REJECTED
    assert venue.place_calls == 1

    venue.script = ["transient"]
    with pytest.raises(TransientExchangeError):
        executor.submit(intent("t"))
    assert journal.get("t").status is OrderStatus.INTENT
    assert executor.submit(intent("t")).status is OrderStatus.FILLED


def test_failed_lookup_leaves_the_order_unknown(journal):
    venue = ScriptedVenue(["timeout-lost"])
    venue.lookup_fails = True
    record = OrderExecutor(journal, {"paradex": venue}).submit(intent())
    assert record.status is OrderStatus.UNKNOWN and "lookup 503" in record.error


def test_refresh_and_cancel_a_resting_order(journal):
    venue = ScriptedVenue(["rest"])
    executor = OrderExecutor(journal, {"paradex": venue})
    limit = intent("l", order_type=OrderType.LIMIT, price=D(90))
    assert executor.submit(limit).status is OrderStatus.OPEN
    assert executor.cancel("l").status is OrderStatus.CANCELLED
    assert executor.cancel("l").status is OrderStatus.CANCELLED  # idempotent


def test_cancelling_a_filled_order_returns_the_fill(journal):
    executor = OrderExecutor(journal, {"paradex": ScriptedVenue()})
    executor.submit(intent("f"))
    assert executor.cancel("f").status is OrderStatus.FILLED


def test_unknown_venue_and_bad_intents_are_clear_errors(journal):
    from strategies.components.base_components import ComponentMissingError

    with pytest.raises(ComponentMissingError, match="no exchange client for venue 'paradex'"):
        OrderExecutor(journal, {}).submit(intent())
    with pytest.raises(ValueError, match="quantity must be positive"):
        intent(qty="0")
    with pytest.raises(ValueError, match="limit order needs a positive price"):
        intent(order_type=OrderType.LIMIT)
