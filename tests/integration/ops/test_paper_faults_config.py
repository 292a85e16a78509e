"""The venues config reaches every paper client the runtime builds (trading and
transfers), and a bad one fails at load naming the file and the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.enums import OrderSide, OrderType
from core.errors import ConfigError
from core.settings import PROJECT_ROOT, load_settings
from exchanges.base import OrderRejectedError, OrderRequest
from exchanges.paper_config import load_venues_config
from strategies.runtime import Runtime


def runtime(engine, path) -> Runtime:
    settings = load_settings(PERPBOT_MODE="paper", PERPBOT_VENUES_CONFIG=str(path))
    return Runtime(settings=settings, engine=engine, configs={})


def test_the_runtime_builds_paper_clients_with_the_configured_faults(engine, clean_db, tmp_path):
    path = tmp_path / "venues.yaml"
    path.write_text(
        "paper:\n  lighter:\n    faults: {seed: 3, reject_rate: 1.0}\n    leverage: 7\n"
    )
    rt = runtime(engine, path)
    lighter = rt.exchange("lighter", "arb")
    assert lighter.config.faults.reject_rate == 1.0 and lighter.config.leverage == 7  # type: ignore[attr-defined]
    assert rt.exchange("hyperliquid", "arb").config.faults.reject_rate == 0  # type: ignore[attr-defined]
    order = OrderRequest("fault-probe-1", "ETH", OrderSide.BUY, OrderType.MARKET, Decimal("0.1"))
    with pytest.raises(OrderRejectedError, match="rejected \\(injected fault\\)"):
        lighter.place_order(order)


def test_an_unknown_venue_or_field_names_the_file_and_the_path(tmp_path):
    path = tmp_path / "venues.yaml"
    path.write_text("paper:\n  nosuchdex: {}\n")
    with pytest.raises(
        ConfigError, match=r"venues.yaml: paper: Value error, unknown venue nosuchdex"
    ):
        load_venues_config(path)
    path.write_text("paper:\n  lighter:\n    faults: {reject_rate: 2}\n")
    with pytest.raises(ConfigError, match=r"paper\.lighter\.faults\.reject_rate: Input should be"):
        load_venues_config(path)
    path.write_text(
        "paper:\n  lighter:\n    faults:\n      outages: [{start: '2026-01-01T10:00:00Z', "
        "end: '2026-01-01T09:00:00Z'}]\n"
    )
    with pytest.raises(ConfigError, match=r"outages\.0: Value error, outage end .* is not after"):
        load_venues_config(path)
    assert load_venues_config(tmp_path / "missing.yaml").paper == {}
    assert load_venues_config(PROJECT_ROOT / "configs" / "venues.yaml").paper == {}


def test_one_venue_has_one_set_of_terms_for_trading_and_transfers(engine):
    from core.clock import SystemClock
    from exchanges.paper import PaperVenueConfig
    from strategies.transfer_wiring import build_transfer_manager, load_transfers_config

    config = load_transfers_config()
    doubled = config.model_copy(
        update={
            "paper": config.paper.model_copy(update={"venues": {"lighter": PaperVenueConfig()}})
        }
    )
    with pytest.raises(ConfigError, match="paper venue terms for lighter are in the transfers"):
        build_transfer_manager(
            engine=engine,
            clock=SystemClock(),
            config=doubled,
            settings=load_settings(PERPBOT_MODE="paper"),
            venue_terms={"lighter": PaperVenueConfig(withdrawal_delay_s=5)},
        )
