"""Level 1 of the strategy hierarchy: the minimal interface every strategy has.

A strategy has a name, a validated config (a frozen pydantic model), a lifecycle
(`start`, `stop`) and `run_cycle(now) -> CycleResult`. Nothing here knows how it is run:
a Celery task, the in-process demo runner and a backtester all call the same methods.

A cycle never raises for a strategy failure: it returns a `CycleResult` whose `error` is a
`StrategyError` naming the strategy and the hook that failed, so the caller's loop keeps
going and the next cycle runs.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, StringConstraints

from core.errors import ConfigError
from core.ops_config import BreakerLimits

if TYPE_CHECKING:
    from strategies.components.kit import ComponentKit

logger = logging.getLogger(__name__)

# Instance names key rows in strategy_state/strategy_positions (VARCHAR(50)) and Celery
# beat entries, so they are short, lower-case and free of spaces.
StrategyName = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", min_length=1, max_length=50)
]


class StrategyConfig(BaseModel):
    """Base of every strategy config: frozen, unknown fields refused.

    A concrete config narrows `type` to a `Literal` (its registry key) and adds its fields.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    name: StrategyName
    # Circuit breakers of this instance (`core/ops_config.py`); all off unless set.
    breakers: BreakerLimits = BreakerLimits()

    def venue_accounts(self) -> list[tuple[str, str]]:
        """The (venue, sub-account) pairs this strategy trades on; the composition root
        connects a client to each. A strategy that trades nothing returns none."""
        return []

    def traded_symbols(self) -> list[str]:
        """The symbols this strategy trades (the demo seeds market data for them)."""
        return []


ConfigT = TypeVar("ConfigT", bound=StrategyConfig)


@dataclass(frozen=True, slots=True)
class StrategyError:
    """Why a cycle failed: which strategy, which hook, what went wrong."""

    strategy_name: str
    hook: str
    error_type: str
    message: str

    def __str__(self) -> str:
        return (
            f"strategy {self.strategy_name}: {self.hook} failed: {self.error_type}: {self.message}"
        )


@dataclass(frozen=True, slots=True)
class HaltRequested:
    """A strategy found something it must not trade over (a venue position it never
    opened, a mismatch it cannot repair safely): it asks to be halted until an operator
    looks. Returned among a phase's actions; whoever runs the phase trips the halt
    (the Celery task layer: `tasks/strategy_tasks.py`) and raises the alert."""

    strategy_name: str
    rule: str  # what was found, as a stable name (e.g. "reconcile.foreign_position")
    reason: str  # what people read


@dataclass(frozen=True, slots=True)
class CycleResult:
    """What one cycle did: the actions decided, what executing them returned, or the error.

    On failure `actions` and `results` hold what was decided and done before the error
    (e.g. the orders placed before one was rejected).
    """

    strategy_name: str
    at: datetime
    actions: tuple[object, ...] = ()
    results: tuple[object, ...] = ()
    error: StrategyError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary (Decimal as string, times ISO-8601) for task results and logs."""
        return {
            "strategy": self.strategy_name,
            "at": self.at.isoformat(),
            "ok": self.ok,
            "actions": [_jsonable(a) for a in self.actions],
            "results": [_jsonable(r) for r in self.results],
            "error": None if self.error is None else _jsonable(self.error),
        }


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"kind": type(value).__name__, **fields}
    if isinstance(value, Enum):
        return _jsonable(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


class BaseStrategy(ABC, Generic[ConfigT]):
    """The interface the runners see. Subclass a category, not this class directly.

    Concrete classes set `config_model` to their config class and write `create`, which
    takes the components they need from the kit; the factory builds them through it.
    """

    config_model: ClassVar[type[StrategyConfig]]

    def __init__(self, config: ConfigT) -> None:
        model = getattr(type(self), "config_model", None)
        if model is None:
            raise TypeError(f"{type(self).__name__} must set `config_model` to its config class")
        if not isinstance(config, model):
            raise ConfigError(
                f"{type(self).__name__} needs a {model.__name__} config, "
                f"got {type(config).__name__}"
            )
        self._config: ConfigT = config

    @property
    def name(self) -> str:
        """The instance name from the config (unique per deployment)."""
        return self._config.name

    @property
    def config(self) -> ConfigT:
        return self._config

    @classmethod
    @abstractmethod
    def create(cls, config: ConfigT, kit: ComponentKit) -> Self:
        """The strategy for `config`, with the components it declares taken from `kit`
        (a missing venue or component is a `ComponentMissingError` naming it)."""

    @abstractmethod
    def start(self) -> None:
        """Prepare to run (e.g. check venues, reconcile). Errors propagate to the operator."""

    @abstractmethod
    def stop(self) -> None:
        """Wind down (e.g. cancel resting orders). Errors propagate to the operator."""

    @abstractmethod
    def run_cycle(self, now: datetime) -> CycleResult:
        """Do one round of work at time `now` (timezone-aware UTC). Never raises for a
        failure of the strategy itself: returns a result carrying a `StrategyError`."""

    def _failed_cycle(
        self,
        hook: str,
        exc: BaseException,
        now: datetime,
        actions: Sequence[object] = (),
        results: Sequence[object] = (),
    ) -> CycleResult:
        """Log a hook's exception with the strategy's name and turn it into a result."""
        error = StrategyError(self.name, hook, type(exc).__name__, str(exc))
        logger.error("%s", error, exc_info=exc)
        return CycleResult(self.name, now, tuple(actions), tuple(results), error)
