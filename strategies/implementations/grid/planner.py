"""The grid's decisions for one cycle, as data: `plan_cycle(...) -> list[Action]`.

Pure: it reads the snapshot (venue, stored state, refreshed order records) and the time it
is given, and touches nothing. In order:

1. fold terminal order records into the levels and the realized PnL (`accounting`);
2. stop loss, stop_price and pause_price, checked on the mid price;
3. check that the venue position still covers the levels waiting for a take-profit; a level
   left uncovered in two cycles in a row was closed outside the grid and is written off
   (one cycle of grace, because a take-profit may fill between the order refresh and the
   position read);
4. a stopped grid cancels its open orders and, when closing, its take-profits, and closes
   the position at market; a running (or stopped-and-keeping) grid places take-profits for
   filled levels, re-sends orders journaled but never sent, and cancels an open order older
   than open_timeout_seconds;
5. a running, unpaused grid opens one new level when max_orders, wait_time_seconds and
   grid_step_pct allow it;
6. the position record follows the venue position (`tracking`).

Actions come out in the order `execute` must follow: a position record's close (see
`tracking`), the new state, events, cancels, orders, then the other position-record writes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.enums import OrderStatus
from strategies.categories.stateless_strategy import Action
from strategies.components.base_components import OrderRecord
from strategies.implementations.grid.accounting import LIVE_STATUSES, Fold, fold_orders
from strategies.implementations.grid.actions import (
    CancelGridOrder,
    ClosePositionRecord,
    CommitGridState,
    GridSnapshot,
    SubmitGridOrder,
)
from strategies.implementations.grid.config import GridConfig
from strategies.implementations.grid.models import (
    ZERO,
    GridLevel,
    GridState,
    GridStateError,
    GridStatus,
    LevelStage,
    OnStop,
)
from strategies.implementations.grid.orders import HUNDRED, GridOrders
from strategies.implementations.grid.tracking import track_position

_CANCELLABLE = (OrderStatus.INTENT, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
_RESTING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


def plan_cycle(
    strategy_name: str, config: GridConfig, snapshot: GridSnapshot, now: datetime
) -> list[Action]:
    """What the grid does now; see the module docstring for the order of the steps."""
    if not config.enabled:
        return []
    return _Planner(strategy_name, config, snapshot, now).plan()


class _Planner:
    def __init__(
        self, strategy_name: str, config: GridConfig, snapshot: GridSnapshot, now: datetime
    ) -> None:
        state = snapshot.state or GridState.fresh(strategy_name, config.direction, now)
        if state.direction is not config.direction:
            raise GridStateError(
                f"grid {strategy_name}: the stored run {state.run_id} is {state.direction}, "
                f"the config says {config.direction}; close the run before changing direction"
            )
        self.name = strategy_name
        self.config = config
        self.snap = snapshot
        self.now = now
        self.run_id = state.run_id
        self.records = snapshot.records
        self.held = max(ZERO, snapshot.position_qty * config.direction.sign)
        self.build = GridOrders(strategy_name, config, snapshot.instrument, state.run_id)
        self.fold = Fold.of(state)
        self.cancels: list[CancelGridOrder] = []
        self.orders: list[SubmitGridOrder] = []

    # ------------------------------------------------------------------ the steps

    def plan(self) -> list[Action]:
        fold, snap = self.fold, self.snap
        if snap.state is None:
            fold.event("grid.started", run_id=self.run_id, at=self.now)
        elif snap.recovered:
            fold.event("grid.recovered", run_id=self.run_id, levels=len(fold.levels))
        fold_orders(fold, self.records, self.config.direction.sign)
        changes = self._check_triggers()
        closing = changes.get("closing", fold.state.closing)
        stopped = changes.get("status", fold.state.status) is GridStatus.STOPPED
        if not closing:
            self._check_coverage()
        self._manage_opens(cancel_all=stopped)
        if closing:
            changes |= self._wind_down()
        else:
            self._manage_take_profits()
        if not stopped and not changes.get("paused", fold.state.paused):
            changes |= self._maybe_open()
        fold.episode, position_actions = track_position(
            self.name, self.config.direction, snap, snap.position_records, fold.episode, self.now
        )
        new_state = fold.result(**changes)
        # Closing a record goes first: see tracking.track_position.
        actions: list[Action] = [a for a in position_actions if isinstance(a, ClosePositionRecord)]
        if new_state != snap.state or snap.version == 0:
            actions.append(CommitGridState(new_state, snap.version))
        actions += fold.events
        actions += self.cancels
        actions += self.orders
        actions += [a for a in position_actions if not isinstance(a, ClosePositionRecord)]
        return actions

    def _check_triggers(self) -> dict[str, Any]:
        """Stop loss, stop_price and pause_price on the mid price.

        The stop loss also guards a grid that stop_price stopped with on_stop: keep, since
        it still holds its position.
        """
        config, state = self.config, self.fold.state
        mid, sign = self.snap.mid, config.direction.sign
        if state.closing:
            return {}
        stop_loss = self._stop_loss_price()
        reason = None
        running = state.status is GridStatus.RUNNING
        if stop_loss is not None and sign * (mid - stop_loss) <= 0 and (running or self.held):
            reason = "stop_loss"
        elif not running:
            return {}
        elif config.stop_price is not None and sign * (mid - config.stop_price) >= 0:
            reason = "stop_price"
        if reason is not None:
            closing = reason == "stop_loss" or config.on_stop is OnStop.CLOSE
            self.fold.event(
                "grid.stopped",
                reason=reason,
                mid=mid,
                trigger=stop_loss if reason == "stop_loss" else config.stop_price,
                closing=closing,
                position_qty=self.held,
            )
            return {
                "status": GridStatus.STOPPED,
                "stop_reason": reason,
                "stopped_at": self.now,
                "closing": closing,
                "paused": False,
            }
        paused = config.pause_price is not None and sign * (mid - config.pause_price) >= 0
        if paused != state.paused:
            self.fold.event("grid.paused" if paused else "grid.resumed", mid=mid)
        return {"paused": paused}

    def _stop_loss_price(self) -> Decimal | None:
        config, position = self.config, self.snap.position
        if config.stop_loss_price is not None:
            return config.stop_loss_price
        if config.stop_loss_pct is None or position is None or self.held == 0:
            return None
        return position.entry_price * (1 - config.direction.sign * config.stop_loss_pct / HUNDRED)

    def _check_coverage(self) -> None:
        """Levels the venue position cannot back were closed outside the grid.

        Take-profits resting on the venue claim the position first. A level left uncovered
        is flagged; if it is still uncovered a cycle later, its resting take-profit is
        cancelled and the level is written off (PnL unknown, open fee charged).
        """
        available = self.held
        live_first = sorted(
            self.fold.levels, key=lambda lv: (self._tp_status(lv) not in LIVE_STATUSES, lv.seq)
        )
        kept = []
        for level in live_first:
            if level.stage is LevelStage.OPENING:
                kept.append(level)
            elif level.qty <= available:
                available -= level.qty
                kept.append(replace(level, uncovered_since=None))
            elif level.uncovered_since is None:
                self.fold.event(
                    "grid.level_uncovered", seq=level.seq, qty=level.qty, venue_qty=self.held
                )
                kept.append(replace(level, uncovered_since=self.now))
            elif self.now <= level.uncovered_since:
                kept.append(level)  # the same cycle again (a redelivered task): still grace
            elif self._tp_status(level) in LIVE_STATUSES:
                # Fold the cancellation in first; the level is written off the cycle after.
                if self._tp_status(level) in _RESTING:
                    self._cancel(level.tp_id(self.run_id), "position closed outside the grid")
                kept.append(level)
            else:
                if self._tp_status(level) is OrderStatus.INTENT:
                    self._cancel(level.tp_id(self.run_id), "level written off")
                self.fold.write_off(level, "the venue position no longer holds it", self.now)
        self.fold.levels = kept

    def _manage_opens(self, cancel_all: bool) -> None:
        """Send open orders journaled but never sent; cancel stale ones (all when stopped)."""
        kept = []
        timeout = timedelta(seconds=self.config.open_timeout_seconds)
        for level in self.fold.levels:
            if level.stage is not LevelStage.OPENING:
                kept.append(level)
                continue
            record = self._record(level.open_id(self.run_id))
            status = record.status if record is not None else None
            if cancel_all and status is None:
                continue  # never journaled, so never sent: forget it
            kept.append(level)
            if cancel_all and status in _CANCELLABLE:
                self._cancel(level.open_id(self.run_id), "grid stopped")
            elif cancel_all:
                continue  # SENT / UNKNOWN: wait until the venue's answer is known
            elif status in (None, OrderStatus.INTENT):
                self.orders.append(SubmitGridOrder(self.build.open_intent(level)))
            elif status in _RESTING and self.now - level.opened_at >= timeout:
                self._cancel(level.open_id(self.run_id), "open order timed out")
        self.fold.levels = kept

    def _manage_take_profits(self) -> None:
        """Place a take-profit for every filled level; re-send ones journaled but unsent."""
        levels = []
        for level in self.fold.levels:
            if level.uncovered_since is None and level.stage is LevelStage.HOLDING:
                assert level.entry_price is not None  # HOLDING means the open filled
                boost = self.config.boost
                level = replace(
                    level,
                    stage=LevelStage.CLOSING,
                    tp_price=None if boost else self.build.target_price(level.entry_price),
                    tp_market=boost,
                )
                self.orders.append(SubmitGridOrder(self.build.tp_intent(level)))
            elif (
                level.uncovered_since is None
                and level.stage is LevelStage.CLOSING
                and self._tp_status(level) in (None, OrderStatus.INTENT)
            ):
                self.orders.append(SubmitGridOrder(self.build.tp_intent(level)))
            levels.append(level)
        self.fold.levels = levels

    def _wind_down(self) -> dict[str, Any]:
        """Cancel every take-profit, close the whole position at market, then finish."""
        levels = []
        pending = False
        for level in self.fold.levels:
            if level.stage is LevelStage.CLOSING:
                status = self._tp_status(level)
                if status is None:
                    level = replace(level, stage=LevelStage.HOLDING)  # never sent
                elif status in _CANCELLABLE:
                    self._cancel(level.tp_id(self.run_id), "grid closing its position")
                    pending = pending or status is not OrderStatus.INTENT
                else:
                    pending = True  # SENT / UNKNOWN: the venue may still fill it
            levels.append(level)
        self.fold.levels = levels
        close_id = self.fold.state.close_id
        close = self._record(close_id)
        if close is not None and close.status in LIVE_STATUSES:
            return {}
        if self.held > 0:
            qty = close.intent.quantity if close is not None else self.held
            self.orders.append(SubmitGridOrder(self.build.close_intent(close_id, qty)))
            return {}
        if pending:
            return {}
        for level in self.fold.levels:
            if level.stage is not LevelStage.OPENING:
                self.fold.write_off(level, "the venue position is already flat", self.now)
        self.fold.levels = [lv for lv in self.fold.levels if lv.stage is LevelStage.OPENING]
        self.fold.event("grid.closed", realized_pnl=self.fold.totals.realized_pnl)
        return {"closing": False}

    def _maybe_open(self) -> dict[str, Any]:
        config, state, levels = self.config, self.fold.state, self.fold.levels
        if any(lv.stage is LevelStage.OPENING or lv.uncovered_since for lv in levels):
            return {}
        if len(levels) >= config.max_orders:
            return {}
        wait = timedelta(seconds=config.wait_time_seconds)
        if state.last_open_at is not None and self.now - state.last_open_at < wait:
            return {}
        price = self.build.open_price(self.snap.book)
        target = self.build.target_price(price)
        for level in levels:
            existing = level.tp_price or self.build.target_price(
                level.entry_price or level.open_price
            )
            if abs(target - existing) / existing * HUNDRED < config.grid_step_pct:
                return {}
        level = GridLevel(
            seq=state.next_seq,
            stage=LevelStage.OPENING,
            open_price=price,
            open_qty=self.build.order_qty(price),
            opened_at=self.now,
            post_only=config.boost,
        )
        self.fold.levels = [*levels, level]
        self.orders.append(SubmitGridOrder(self.build.open_intent(level)))
        return {"next_seq": state.next_seq + 1, "last_open_at": self.now}

    # ------------------------------------------------------------------ helpers

    def _record(self, client_order_id: str) -> OrderRecord | None:
        return self.records.get(client_order_id)

    def _tp_status(self, level: GridLevel) -> OrderStatus | None:
        if level.stage is not LevelStage.CLOSING:
            return None
        record = self._record(level.tp_id(self.run_id))
        return record.status if record is not None else None

    def _cancel(self, client_order_id: str, reason: str) -> None:
        self.cancels.append(CancelGridOrder(client_order_id, reason))
