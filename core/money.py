"""Decimal helpers. Money is never a float inside perpbot."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

ZERO = Decimal(0)


def to_decimal(value: object, what: str = "value") -> Decimal:
    """Convert venue/JSON input to Decimal exactly; floats go through their shortest repr.

    Raises ValueError naming `what` for anything that is not a finite number.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError(f"{what}: expected a number, got a boolean")
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{what}: {value!r} is not a number") from None
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise ValueError(f"{what}: expected a number, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what}: {value!r} is not a finite number")
    return result


def quantize_down(value: Decimal, step: Decimal) -> Decimal:
    """Round `value` down to a multiple of `step` (order sizes must never round up)."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def round_to(value: Decimal, step: Decimal) -> Decimal:
    """Round `value` to the nearest multiple of `step` (prices to a tick)."""
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step
