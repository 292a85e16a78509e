"""The operations config: circuit-breaker limits, the alert policy and the metrics endpoint.

Per-strategy breaker limits live in each strategy's YAML (`breakers:`, a `BreakerLimits`);
the deployment-wide ones, the alert policy and the metrics address live in one file,
`configs/ops.yaml` (or `PERPBOT_OPS_CONFIG`). A missing file means the defaults: breakers
off, alerts deduplicated for an hour and at most 30 an hour, metrics on 127.0.0.1:9464.
Every limit is optional (unset = that breaker is off). Errors name the file and the field.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError


class BreakerLimits(BaseModel):
    """When to halt new exposure. Money is USD of net PnL (funding - fees + price PnL)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Net PnL this far below its highest value so far.
    max_drawdown_usd: Decimal | None = Field(None, gt=0)
    # Net PnL this far below where it stood at 00:00 UTC today.
    max_daily_loss_usd: Decimal | None = Field(None, gt=0)
    # This many opens in a row ended FAILED (the fee-burning retry loop).
    max_consecutive_failed_opens: int | None = Field(None, ge=1, le=1000)
    # Notional (USD at entry price) held on one leg without its hedge, summed over positions.
    max_unhedged_notional_usd: Decimal | None = Field(None, gt=0)
    # A venue account the strategy trades that has not answered for this long.
    venue_unreachable_seconds: float | None = Field(None, ge=10, le=7 * 24 * 3600)
    # On a trip, also close the hedged positions (reduce-only), not only stop opening.
    close_hedged_on_trip: bool = False


class GlobalBreakers(BreakerLimits):
    """The same limits over every strategy together (money summed), tripping the global
    halt `*`; `venue_unreachable_seconds` here applies to every strategy on the venue."""

    check_seconds: float = Field(30.0, ge=1, le=3600)  # the beat entry `breakers-check`


class AlertPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # An alert with the same dedupe key within this window is not sent again.
    dedupe_seconds: float = Field(3600.0, ge=0, le=7 * 24 * 3600)
    # At most this many alerts leave in any rolling hour; the rest are recorded, not sent
    # (critical ones too: a storm is itself the message, and the log keeps every alert).
    max_per_hour: int = Field(30, ge=1, le=10_000)
    # Position opened/closed alerts are informational; off by default.
    send_info: bool = False
    timeout_seconds: float = Field(10.0, gt=0, le=120)


class MetricsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(9464, ge=1, le=65535)


class OpsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    breakers: GlobalBreakers = GlobalBreakers()
    alerts: AlertPolicy = AlertPolicy()
    metrics: MetricsConfig = MetricsConfig()


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or '(top level)'}: {item['msg']}"
        for item in exc.errors()
    )


def load_ops_config(path: Path) -> OpsConfig:
    """The ops config in `path`; the defaults when the file does not exist."""
    if not path.exists():
        return OpsConfig()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the ops config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the ops config must be a mapping, got {type(raw).__name__}")
    try:
        return OpsConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_problems(exc)}") from None
