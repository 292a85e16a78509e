"""The grid's config: a frozen pydantic model, unknown fields refused.

Percentages are percent, not fractions: `take_profit_pct: 0.5` means 0.5 %. Prices are in
the quote currency (USD). Every cross-field rule is checked on the later field of the pair,
so an error names the field path (`grid.stop_price: ...`), never just "the config".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from strategies.categories.stateless_strategy import StatelessStrategyConfig
from strategies.implementations.grid.models import GridDirection, OnStop

Percent = Annotated[Decimal, Field(gt=0, le=50)]
Price = Annotated[Decimal, Field(gt=0)]


class GridIntervals(BaseModel):
    """How often the beat schedule fires the grid's cycle (`<name>-cycle`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle_seconds: int = Field(10, ge=1, le=3600)


class GridConfig(StatelessStrategyConfig):
    """One grid on one venue account and symbol (see docs/grid.md for every field)."""

    type: Literal["grid"]
    enabled: bool = True
    # `account` (from the stateless base) must be dedicated to this grid: a stop loss
    # closes the whole position on `symbol` there.
    direction: GridDirection
    # Size of each open order: exactly one of a base quantity or a USD notional (converted
    # at the open price and rounded down to the venue's quantity step).
    order_qty: Decimal | None = Field(None, gt=0)
    order_notional_usd: Decimal | None = Field(None, gt=0, validate_default=True)
    take_profit_pct: Percent
    # Minimum distance between take-profit prices, in percent of the existing one; 0: none.
    grid_step_pct: Decimal = Field(Decimal(0), ge=0, le=50)
    # Cap on levels holding inventory (each has one take-profit order), pending open included.
    max_orders: int = Field(gt=0, le=500)
    wait_time_seconds: int = Field(ge=0, le=7 * 24 * 3600)
    # An open order still unfilled after this long is cancelled; the next one goes near the
    # new mid price.
    open_timeout_seconds: int = Field(300, ge=1, le=7 * 24 * 3600)
    stop_loss_price: Price | None = None
    # Alternative to stop_loss_price: percent against the position's average entry price.
    stop_loss_pct: Decimal | None = Field(None, gt=0, lt=100)
    pause_price: Price | None = None
    stop_price: Price | None = None
    on_stop: OnStop = OnStop.KEEP
    boost: bool = False
    intervals: GridIntervals = GridIntervals()

    @field_validator("order_notional_usd")
    @classmethod
    def _one_order_size(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if "order_qty" not in info.data:
            return value  # order_qty itself is invalid and already reported
        qty = info.data["order_qty"]
        if (qty is None) == (value is None):
            raise ValueError(
                "set exactly one of order_qty (base units per order) or order_notional_usd "
                f"(USD per order); got {'both' if qty is not None else 'neither'}"
            )
        return value

    @field_validator("stop_loss_pct")
    @classmethod
    def _one_stop_loss(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if value is not None and info.data.get("stop_loss_price") is not None:
            raise ValueError("set stop_loss_price or stop_loss_pct, not both")
        return value

    @field_validator("pause_price")
    @classmethod
    def _pause_beyond_stop_loss(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        _check_order(info, value, "pause_price", "stop_loss_price")
        return value

    @field_validator("stop_price")
    @classmethod
    def _stop_beyond_pause(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        _check_order(info, value, "stop_price", "pause_price")
        _check_order(info, value, "stop_price", "stop_loss_price")
        return value


def _check_order(info: ValidationInfo, value: Decimal | None, field: str, lower: str) -> None:
    """For a long grid `lower` < `field` (prices rise towards pause, then stop); reversed for
    a short grid. Both triggers are "adverse to adding more": a long grid pauses and stops
    buying as the price climbs, and its stop loss sits below."""
    other = info.data.get(lower)
    direction = info.data.get("direction")
    if value is None or other is None or direction is None:
        return
    if direction is GridDirection.LONG and not value > other:
        raise ValueError(f"for a long grid {field} ({value}) must be above {lower} ({other})")
    if direction is GridDirection.SHORT and not value < other:
        raise ValueError(f"for a short grid {field} ({value}) must be below {lower} ({other})")
