"""Build the `ExchangeClient` for a venue: paper by default, ccxt only when truly live.

Live means `PERPBOT_MODE=live` *and* `PERPBOT_LIVE_CONFIRM` set to its exact phrase
(`Settings.is_live`, both from the process environment only) *and*
the venue's credentials in the environment (`PERPBOT_<VENUE>_PRIVATE_KEY`, ...). Live mode
without the credentials ccxt needs for a venue is an error naming the missing variables, never
a silent fall-back to paper. Credentials are never logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping

import ccxt
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from core.clock import Clock, clock_from_settings
from core.errors import ConfigError
from core.settings import LIVE_CONFIRM_PHRASE, Settings, get_settings
from exchanges.base import ExchangeClient
from exchanges.ccxt_client import CcxtExchangeClient
from exchanges.ccxt_venues import (
    CREDENTIAL_FIELDS,
    credential_env_name,
    credentials_from_env,
    make_ccxt_exchange,
    missing_credentials,
)
from exchanges.paper import PaperExchange, PaperVenueConfig
from exchanges.venues import VENUES, venue_profile

log = logging.getLogger(__name__)

CcxtFactory = Callable[[str, Mapping[str, str], int], ccxt.Exchange]


class VenueConfig(BaseModel):
    """How perpbot uses one venue (the part of a strategy or venue YAML about it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The sub-account on the venue: strategies sharing a venue keep separate books.
    account: str = Field("main", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    paper: PaperVenueConfig = PaperVenueConfig()
    timeout_ms: int = Field(10_000, ge=1_000, le=120_000)


def is_live_variable(name: str) -> bool:
    """A variable that can make a process trade live: the confirmation, or anything
    `PERPBOT_<VENUE>_...` for a known venue (its credentials, whatever fields it needs)."""
    if name.upper() == "PERPBOT_LIVE_CONFIRM":
        return True
    return name.upper().startswith(tuple(credential_env_name(venue, "") for venue in VENUES))


def paper_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` for a process that must trade on paper only whatever its parent holds (the
    demo's processes, the test suite's): `PERPBOT_MODE=paper`, no confirmation, no credentials."""
    paper = {name: value for name, value in environ.items() if not is_live_variable(name)}
    paper["PERPBOT_MODE"] = "paper"
    return paper


def build_exchange(
    venue: str,
    *,
    config: VenueConfig | None = None,
    settings: Settings | None = None,
    clock: Clock | None = None,
    engine: Engine | None = None,
    environ: Mapping[str, str] | None = None,
    ccxt_factory: CcxtFactory = make_ccxt_exchange,
) -> ExchangeClient:
    """The client for `venue` (a name from `exchanges.venues.VENUES`).

    `engine` and `clock` default to the process's (`DATABASE_URL`, `clock_from_settings`).
    """
    profile = venue_profile(venue)
    settings = settings or get_settings()
    config = config or VenueConfig()
    if settings.is_live:
        return _live_client(venue, profile.ccxt_id, config, clock, environ, ccxt_factory)
    if settings.mode == "live":
        log.warning(
            "PERPBOT_MODE=live without PERPBOT_LIVE_CONFIRM=%r: %s runs on the paper venue",
            LIVE_CONFIRM_PHRASE,
            venue,
        )
    if engine is None:
        from db.engine import get_engine

        engine = get_engine()
    return PaperExchange(
        venue,
        engine=engine,
        clock=clock or clock_from_settings(),
        account=config.account,
        config=config.paper,
    )


def _live_client(
    venue: str,
    ccxt_id: str,
    config: VenueConfig,
    clock: Clock | None,
    environ: Mapping[str, str] | None,
    ccxt_factory: CcxtFactory,
) -> CcxtExchangeClient:
    if config.account != "main":
        raise ConfigError(
            f"venue {venue}: account {config.account!r} is a paper sub-account; a live "
            "sub-account is selected by its own credentials"
        )
    credentials = credentials_from_env(venue, os.environ if environ is None else environ)
    if not credentials:
        names = ", ".join(credential_env_name(venue, field) for field in CREDENTIAL_FIELDS)
        raise ConfigError(f"live trading on {venue} needs its credentials: set one of {names}")
    exchange = ccxt_factory(ccxt_id, credentials, config.timeout_ms)
    missing = missing_credentials(venue, exchange, credentials)
    if missing:
        raise ConfigError(f"live trading on {venue} also needs {', '.join(missing)}")
    log.info(
        "%s: live through ccxt %s (%s)", venue, ccxt.__version__, ", ".join(sorted(credentials))
    )
    return CcxtExchangeClient(venue, exchange, clock=clock)
