"""Which breakers a scope's figures trip, and the config that sets the limits."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from core.errors import ConfigError
from core.ops_config import BreakerLimits, load_ops_config
from strategies.components.breakers import (
    BreakerKind,
    ScopeFigures,
    VenueOutage,
    evaluate,
    stricter,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def figures(**changes) -> ScopeFigures:
    values = {
        "scope": "arb",
        "net_pnl_usd": D(100),
        "peak_pnl_usd": D(100),
        "day_start_pnl_usd": D(100),
        "consecutive_failed_opens": 0,
        "unhedged_notional_usd": D(0),
        "outages": (),
    }
    return ScopeFigures(**{**values, **changes})


ALL = BreakerLimits(
    max_drawdown_usd=D(500),
    max_daily_loss_usd=D(200),
    max_consecutive_failed_opens=3,
    max_unhedged_notional_usd=D(1000),
    venue_unreachable_seconds=300,
)


def kinds(limits: BreakerLimits, f: ScopeFigures) -> list[BreakerKind]:
    return [t.breaker for t in evaluate(limits, f, NOW)]


def test_healthy_figures_trip_nothing_and_unset_limits_never_trip():
    assert kinds(ALL, figures()) == []
    worst = figures(
        net_pnl_usd=D(-10_000),
        consecutive_failed_opens=99,
        unhedged_notional_usd=D(10**6),
        outages=(VenueOutage("lighter", "arb", NOW - timedelta(days=1), "timeout"),),
    )
    assert kinds(BreakerLimits(), worst) == []


def test_drawdown_is_measured_from_the_peak_and_daily_loss_from_the_day_start():
    f = figures(net_pnl_usd=D(350), peak_pnl_usd=D(900), day_start_pnl_usd=D(500))
    [trip] = evaluate(ALL, f, NOW)
    assert trip.breaker is BreakerKind.MAX_DRAWDOWN
    assert "drawdown 550.00 USD" in trip.reason and "limit 500.00 USD" in trip.reason
    f = figures(net_pnl_usd=D(299), peak_pnl_usd=D(500), day_start_pnl_usd=D(500))
    assert kinds(ALL, f) == [BreakerKind.DAILY_LOSS]
    # A gain today is no loss.
    assert (
        kinds(ALL, figures(net_pnl_usd=D(800), peak_pnl_usd=D(800), day_start_pnl_usd=D(0))) == []
    )


def test_failed_opens_unhedged_notional_and_venue_down_trip_at_their_limits():
    assert kinds(ALL, figures(consecutive_failed_opens=2)) == []
    assert kinds(ALL, figures(consecutive_failed_opens=3)) == [BreakerKind.FAILED_OPENS]
    assert kinds(ALL, figures(unhedged_notional_usd=D("999.99"))) == []
    assert kinds(ALL, figures(unhedged_notional_usd=D(1000))) == [BreakerKind.UNHEDGED_NOTIONAL]
    recent = VenueOutage("lighter", "arb", NOW - timedelta(seconds=299), "timeout")
    assert kinds(ALL, figures(outages=(recent,))) == []
    old = VenueOutage("lighter", "arb", NOW - timedelta(seconds=301), "TransientExchangeError")
    [trip] = evaluate(ALL, figures(outages=(recent, old)), NOW)
    assert trip.breaker is BreakerKind.VENUE_DOWN
    assert trip.reason.startswith("lighter/arb unreachable for 301 s (limit 300 s)")


def test_every_tripped_breaker_is_reported_in_a_fixed_order():
    f = figures(net_pnl_usd=D(-500), consecutive_failed_opens=5, unhedged_notional_usd=D(2000))
    assert kinds(ALL, f) == [
        BreakerKind.MAX_DRAWDOWN,
        BreakerKind.DAILY_LOSS,
        BreakerKind.FAILED_OPENS,
        BreakerKind.UNHEDGED_NOTIONAL,
    ]


def test_the_shorter_venue_limit_of_strategy_and_deployment_applies():
    assert stricter(BreakerLimits(), BreakerLimits()) is None
    assert stricter(BreakerLimits(venue_unreachable_seconds=600), BreakerLimits()) == 600
    assert (
        stricter(
            BreakerLimits(venue_unreachable_seconds=600),
            BreakerLimits(venue_unreachable_seconds=120),
        )
        == 120
    )


def test_an_invalid_ops_config_names_the_file_and_the_field(tmp_path):
    path = tmp_path / "ops.yaml"
    assert load_ops_config(path).alerts.max_per_hour == 30  # missing file: the defaults
    path.write_text("breakers:\n  max_daily_loss_usd: -5\nalerts:\n  max_per_hour: 0\n")
    with pytest.raises(ConfigError) as error:
        load_ops_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert "breakers.max_daily_loss_usd: Input should be greater than 0" in message
    assert "alerts.max_per_hour: Input should be greater than or equal to 1" in message
    path.write_text("breakers:\n  max_drawdown: 5\n")
    with pytest.raises(ConfigError, match=r"breakers\.max_drawdown: Extra inputs are not"):
        load_ops_config(path)


def test_the_example_ops_config_loads():
    from core.settings import PROJECT_ROOT

    config = load_ops_config(PROJECT_ROOT / "configs" / "ops.yaml")
    assert config.breakers.max_daily_loss_usd == D(1000)
    assert config.breakers.check_seconds == 30
