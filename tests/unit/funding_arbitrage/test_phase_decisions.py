"""The phases' pure decisions on hand-made snapshots: monitor, rebalance, open, transfers."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from exchanges.base import FundingPayment, Position
from funding_service.opportunities import Ranking
from strategies.components.base_components import FundingLegSummary
from strategies.implementations.funding_arbitrage import monitoring
from strategies.implementations.funding_arbitrage.decisions import (
    Close,
    Hold,
    OpenRefused,
    Refresh,
    RefusalRule,
    Repair,
    Resume,
    Switch,
    WaitAfterFailedClose,
)
from strategies.implementations.funding_arbitrage.models import PhaseSkipped, TransferNeed
from strategies.implementations.funding_arbitrage.opener import cooldown, decide_open, is_free
from strategies.implementations.funding_arbitrage.position_manager import (
    FundingPass,
    VenueFunding,
    VenueSnapshot,
)
from strategies.implementations.funding_arbitrage.rebalance_strategies import (
    BetterOpportunity,
    TimeBased,
)
from strategies.implementations.funding_arbitrage.rebalancer import Rebalancer
from strategies.implementations.funding_arbitrage.snapshots import (
    MonitorSnapshot,
    OpenCandidate,
    RebalanceSnapshot,
)
from strategies.implementations.funding_arbitrage.transfers_phase import track_needs

from .helpers import T0, D, hourly, later, opportunity, position
from .test_entry_and_margin import config

RETRY = timedelta(seconds=300)


def held(venue: str, qty: str) -> Position:
    return Position(venue, "ETH", D(qty), D(3000), D(3000), D(5), None, D(1000), D(3))


def venues(long_qty: str = "1", short_qty: str = "-1", down: str | None = None):
    return {
        "lighter": VenueSnapshot("lighter", {"ETH": held("lighter", long_qty)}),
        "hyperliquid": VenueSnapshot("hyperliquid", {}, down)
        if down
        else VenueSnapshot("hyperliquid", {"ETH": held("hyperliquid", short_qty)}),
    }


def paid(venue: str, hours: int, amount: str) -> FundingPayment:
    return FundingPayment(venue, "ETH", later(hours), D(amount), D("0.0001"), D(1), D(3000))


# ---------------------------------------------------------------- monitor


def test_the_monitor_resumes_every_unfinished_position_first():
    unfinished = [position(), position(id=uuid.UUID(int=2))]
    assert monitoring.resumes(unfinished) == [Resume(p) for p in unfinished]


def test_the_monitor_refreshes_with_the_payments_since_the_last_one_stored():
    stored = {"lighter": FundingLegSummary("lighter", D(-1), 1, later(1))}
    funding = FundingPass(
        {
            "lighter": VenueFunding(
                "lighter", {"ETH": [paid("lighter", 1, "-1"), paid("lighter", 2, "-2")]}
            ),
            "hyperliquid": VenueFunding("hyperliquid", {}, "HTTP 502"),
        },
        {position().id: stored},
    )
    snapshot = MonitorSnapshot((position(),), venues(), funding, {position().id: hourly("0.3")})
    [refresh] = monitoring.decide(snapshot)
    assert isinstance(refresh, Refresh) and refresh.stored == stored
    assert [(p.venue, p.funding_time, p.amount_usd) for p in refresh.payments] == [
        ("lighter", later(2), D(-2))  # 01:00 is stored already
    ]
    assert refresh.missing_funding == ("hyperliquid: HTTP 502",)
    assert refresh.divergence_hourly == hourly("0.3")
    assert refresh.unrealized_pnl_usd == D(10)


def test_a_leg_the_venue_no_longer_holds_is_repaired_and_a_venue_down_is_skipped():
    funding = FundingPass({}, {position().id: {}})
    mismatch = MonitorSnapshot((position(),), venues(short_qty="0"), funding, {position().id: None})
    [repair] = monitoring.decide(mismatch)
    assert isinstance(repair, Repair)
    assert repair.mismatch == "short leg: hyperliquid holds 0 ETH, position expects -1"
    down = MonitorSnapshot((position(),), venues(down="timeout"), funding, {position().id: None})
    assert monitoring.decide(down) == [
        PhaseSkipped("monitor", f"{position().id}: hyperliquid: timeout")
    ]


# ---------------------------------------------------------------- rebalance


def rebalance_snapshot(ranking: Ranking | None = None, down: str | None = None):
    return RebalanceSnapshot(
        venues(down=down),
        ranking,
        {position().id: hourly("0.4")},
        {position().id: D("0.00045")},
        D(168),
    )


def test_a_trading_decision_waits_after_a_failed_close():
    rebalancer = Rebalancer(TimeBased(D(1), 30), RETRY)
    failed = position(close_failed_at=later(2))
    waiting = rebalancer.decide(
        failed, rebalance_snapshot(), [failed], later(2) + timedelta(minutes=4)
    )
    assert isinstance(waiting, WaitAfterFailedClose) and isinstance(waiting.decision, Close)
    assert waiting.until == later(2) + RETRY
    assert waiting.detail == (
        "waiting: the close failed at 2026-03-02T02:00:00+00:00; "
        "execution.close_retry_seconds is 300"
    )
    later_on = rebalancer.decide(failed, rebalance_snapshot(), [failed], later(2) + RETRY)
    assert isinstance(later_on, Close)


def test_an_operator_closes_what_the_policy_would_hold_and_never_waits():
    rebalancer = Rebalancer(TimeBased(D(24), 30), RETRY)
    failed = position(close_failed_at=later(1))
    assert isinstance(rebalancer.decide(failed, rebalance_snapshot(), [failed], later(1)), Hold)
    closed = rebalancer.decide(failed, rebalance_snapshot(), [failed], later(1), "maintenance")
    assert isinstance(closed, Close) and closed.source == "operator" and closed.priority == -1
    assert closed.reason.startswith("operator: maintenance (policy would hold: held 1.00 h")


def test_switch_alternatives_exclude_legs_other_positions_hold():
    target = opportunity("0.90", symbol="SOL")
    ranking = Ranking([target])
    rebalancer = Rebalancer(BetterOpportunity(D(0), 40), RETRY)
    own = position()
    assert isinstance(rebalancer.decide(own, rebalance_snapshot(ranking), [own], T0), Switch)
    other = position(id=uuid.UUID(int=9), symbol="SOL")
    assert isinstance(rebalancer.decide(own, rebalance_snapshot(ranking), [own, other], T0), Hold)


def test_a_position_on_a_venue_that_could_not_be_read_is_skipped():
    rebalancer = Rebalancer(TimeBased(D(1), 30), RETRY)
    skipped = rebalancer.decide(position(), rebalance_snapshot(down="HTTP 503"), [], later(5))
    assert skipped == PhaseSkipped("rebalance", f"{position().id}: HTTP 503")


# ---------------------------------------------------------------- open


def test_a_pair_that_failed_recently_waits_and_a_used_leg_is_not_free():
    sol = opportunity("0.4", symbol="SOL")
    failed = position(symbol="SOL", closed_at=T0, close_reason="short rejected")
    refused = cooldown(config(), sol, [failed], T0 + timedelta(minutes=10))
    assert isinstance(refused, OpenRefused) and refused.rule is RefusalRule.COOLDOWN
    assert refused.detail.endswith("at 2026-03-02T00:00:00+00:00 (short rejected)")
    assert cooldown(config(), sol, [failed], T0 + timedelta(minutes=15)) is None
    assert not is_free(sol, [position(symbol="SOL", short_dex="aster")])
    assert is_free(sol, [position()])


def test_an_open_without_venue_data_is_refused_by_its_own_rule():
    sol = opportunity("0.4", symbol="SOL")
    refused = decide_open(config(), OpenCandidate(sol, (), {}, "venue data unavailable: 503"))
    assert refused == OpenRefused.of(sol, RefusalRule.VENUE_DATA, "venue data unavailable: 503")


# ---------------------------------------------------------------- transfers


def test_needs_are_announced_when_new_or_changed_and_resolved_when_gone():
    first = TransferNeed("a", "b", D(100), "b short")
    changes = track_needs({}, [first], T0)
    assert dict(changes.announced) == {"a->b": first} and changes.resolved == ()
    waiting = dict(changes.waiting)
    assert waiting == {"a->b": {"amount_usd": D(100), "since": T0}}
    again = track_needs(waiting, [first], later(1))
    assert dict(again.announced) == {} and dict(again.waiting) == waiting  # since is kept
    bigger = replace(first, amount_usd=Decimal(150))
    assert dict(track_needs(waiting, [bigger], later(1)).announced) == {"a->b": bigger}
    gone = track_needs(waiting, [], later(2))
    assert gone.resolved == ("a->b",) and dict(gone.waiting) == {}
