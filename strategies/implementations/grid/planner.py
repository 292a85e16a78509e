"""The grid's decisions for one cycle, as data: `plan_cycle(...) -> list[Action]`.

Pure: it reads the snapshot (venue, stored state, refreshed order records) and the time it
is given, and touches nothing. In order:

1. fold terminal order records into the levels and the realized PnL (`accounting`);
2. check that the venue position still covers the levels waiting for a take-profit; a level
   it has not covered for two cycles in a row was closed outside the grid and is written off
   (one cycle of grace, because a take-profit may fill between the order refresh and the
   position read);
3. stop (stop loss, stop_price) and pause (pause_price) checks on the mid price;
4. a stopped grid cancels its open orders and, when closing, its take-profits, and closes
   the position at market; a running (or stopped-and-keeping) grid places take-profits for
   filled levels, re-sends orders journaled but never sent, and cancels an open order older
   than open_timeout_seconds;
5. a running, unpaused grid opens one new level when max_orders, wait_time_seconds and
   grid_step_pct allow it;
6. the position record follows the venue position (`tracking`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from core.enums import OrderStatus, OrderType
from core.money import quantize_down
from strategies.categories.stateless_strategy import Action
from strategies.components.base_components import OrderIntent, OrderRecord
from strategies.implementations.grid.accounting import LIVE_STATUSES, Fold, fold_orders
from strategies.implementations.grid.actions import (
    CancelGridOrder,
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
    OrderKind,
)
from strategies.implementations.grid.tracking import episode_for, track_position

HUNDRED = Decimal(100)
_CANCELLABLE = (OrderStatus.INTENT, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class GridSizeError(ValueError):
    """The configured order size is below what the venue accepts."""


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
        self.name = strategy_name
        self.config = config
        self.snap = snapshot
        self.now = now
        self.sign = config.direction.sign
        self.records = snapshot.records
        self.held = max(ZERO, snapshot.position_qty * self.sign)
        self.cancels: list[CancelGridOrder] = []
        self.orders: list[SubmitGridOrder] = []
        stored = snapshot.state
        state = stored or GridState.fresh(strategy_name, config.direction, now)
        if state.direction is not config.direction:
            raise GridStateError(
                f"grid {strategy_name}: the stored run {state.run_id} is {state.direction}, "
                f"the config says {config.direction}; close the run before changing direction"
            )
        self.fold = Fold.of(state)
        self.state = state

    # ------------------------------------------------------------------ the steps

    def plan(self) -> list[Action]:
        fold = self.fold
        if self.snap.state is None:
            fold.event("grid.started", run_id=self.state.run_id, at=self.now)
        elif self.snap.recovered:
            fold.event("grid.recovered", run_id=self.state.run_id, levels=len(fold.levels))
        fold.episode = episode_for(fold.episode, self.snap.position_records)
        fold_orders(fold, self.records, self.sign)
        changes: dict[str, Any] = {}
        closing = fold.state.closing
        if not closing:
            self._check_coverage()
        if fold.state.status is GridStatus.RUNNING:
            changes |= self._check_triggers()
            closing = changes.get("closing", closing)
        stopped = changes.get("status", fold.state.status) is GridStatus.STOPPED
        self._manage_opens(cancel_all=stopped)
        if closing:
            changes |= self._wind_down()
        else:
            self._manage_take_profits()
        if not stopped and not changes.get("paused", fold.state.paused):
            changes |= self._maybe_open()
        fold.episode, position_actions = track_position(
            self.name,
            self.config.direction,
            self.snap,
            self.snap.position_records,
            fold.episode,
            self.now,
        )
        new_state = fold.result(**changes)
        actions: list[Action] = []
        if new_state != self.snap.state or self.snap.version == 0:
            actions.append(CommitGridState(new_state, self.snap.version))
        actions += fold.events
        actions += self.cancels
        actions += self.orders
        actions += position_actions
        return actions

    def _check_coverage(self) -> None:
        live_tp_qty = sum(
            (lv.qty for lv in self.fold.levels if self._tp_status(lv) in LIVE_STATUSES), ZERO
        )
        available = self.held - live_tp_qty
        kept = []
        for level in self.fold.levels:
            waiting = level.stage is LevelStage.HOLDING or (
                level.stage is LevelStage.CLOSING and self._tp_status(level) not in LIVE_STATUSES
            )
            if not waiting or level.qty <= available:
                if waiting:
                    available -= level.qty
                kept.append(replace(level, uncovered_since=None))
                continue
            if level.uncovered_since is None:
                self.fold.event(
                    "grid.level_uncovered", seq=level.seq, qty=level.qty, venue_qty=self.held
                )
                kept.append(replace(level, uncovered_since=self.now))
            elif self.now > level.uncovered_since:
                self.fold.write_off(level, "the venue position no longer holds it", self.now)
                self._cancel_unsent_tp(level)
            else:
                kept.append(level)
        self.fold.levels = kept

    def _check_triggers(self) -> dict[str, Any]:
        config, mid = self.config, self.snap.mid
        stop_loss = self._stop_loss_price()
        reason = None
        if stop_loss is not None and self.sign * (mid - stop_loss) <= 0:
            reason = "stop_loss"
        elif config.stop_price is not None and self.sign * (mid - config.stop_price) >= 0:
            reason = "stop_price"
        if reason is not None:
            closing = reason == "stop_loss" or config.on_stop.value == "close"
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
        paused = config.pause_price is not None and self.sign * (mid - config.pause_price) >= 0
        if paused != self.fold.state.paused:
            self.fold.event("grid.paused" if paused else "grid.resumed", mid=mid)
        return {"paused": paused}

    def _stop_loss_price(self) -> Decimal | None:
        config = self.config
        if config.stop_loss_price is not None:
            return config.stop_loss_price
        position = self.snap.position
        if config.stop_loss_pct is None or position is None or self.held == 0:
            return None
        return position.entry_price * (1 - self.sign * config.stop_loss_pct / HUNDRED)

    def _manage_opens(self, cancel_all: bool) -> None:
        """Send open orders that were journaled but never sent; cancel stale (or all) ones."""
        kept = []
        timeout = timedelta(seconds=self.config.open_timeout_seconds)
        for level in self.fold.levels:
            if level.stage is not LevelStage.OPENING:
                kept.append(level)
                continue
            record = self._record(level.open_id(self.state.run_id))
            status = record.status if record is not None else None
            if cancel_all and status is None:
                continue  # never journaled, so never sent: simply forget it
            kept.append(level)
            if cancel_all and status in _CANCELLABLE:
                self._cancel(level.open_id(self.state.run_id), "grid stopped")
            elif cancel_all:
                continue  # SENT / UNKNOWN: wait until the venue's answer is known
            elif status in (None, OrderStatus.INTENT):
                self.orders.append(SubmitGridOrder(self._open_intent(level)))
            elif status in _CANCELLABLE and self.now - level.opened_at >= timeout:
                self._cancel(level.open_id(self.state.run_id), "open order timed out")
        self.fold.levels = kept

    def _manage_take_profits(self) -> None:
        levels = []
        for level in self.fold.levels:
            if level.uncovered_since is not None:
                levels.append(level)
                continue
            if level.stage is LevelStage.HOLDING:
                level = replace(
                    level,
                    stage=LevelStage.CLOSING,
                    tp_price=None if self.config.boost else self._tp_price(level),
                    tp_market=self.config.boost,
                )
                self.orders.append(SubmitGridOrder(self._tp_intent(level)))
            elif level.stage is LevelStage.CLOSING and self._tp_status(level) in (
                None,
                OrderStatus.INTENT,
            ):
                self.orders.append(SubmitGridOrder(self._tp_intent(level)))
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
                    level = replace(level, stage=LevelStage.HOLDING)
                elif status in _CANCELLABLE:
                    self._cancel(level.tp_id(self.state.run_id), "grid closing its position")
                    pending = pending or status is not OrderStatus.INTENT
                else:
                    pending = True  # SENT / UNKNOWN: the venue may still fill it
            levels.append(level)
        self.fold.levels = levels
        state = self.fold.state
        close = self._record(state.close_id)
        if close is not None and close.status in LIVE_STATUSES:
            return {}
        if self.held > 0:
            qty = close.intent.quantity if close is not None else self.held
            self.orders.append(SubmitGridOrder(self._close_intent(state.close_id, qty)))
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
        instrument = self.snap.instrument
        book = self.snap.book
        if self.sign > 0:
            price = _to_tick(book.bid, instrument.tick_size, ROUND_FLOOR)
        else:
            price = _to_tick(book.ask, instrument.tick_size, ROUND_CEILING)
        target = self._target_price(price)
        for level in levels:
            existing = level.tp_price or self._target_price(level.entry_price or level.open_price)
            if abs(target - existing) / existing * HUNDRED < config.grid_step_pct:
                return {}
        level = GridLevel(
            seq=state.next_seq,
            stage=LevelStage.OPENING,
            open_price=price,
            open_qty=self._order_qty(price),
            opened_at=self.now,
            post_only=config.boost,
        )
        self.fold.levels = [*levels, level]
        self.orders.append(SubmitGridOrder(self._open_intent(level)))
        return {"next_seq": state.next_seq + 1, "last_open_at": self.now}

    # ------------------------------------------------------------------ helpers

    def _record(self, client_order_id: str) -> OrderRecord | None:
        return self.records.get(client_order_id)

    def _tp_status(self, level: GridLevel) -> OrderStatus | None:
        if level.stage is not LevelStage.CLOSING:
            return None
        record = self._record(level.tp_id(self.state.run_id))
        return record.status if record is not None else None

    def _cancel(self, client_order_id: str, reason: str) -> None:
        self.cancels.append(CancelGridOrder(client_order_id, reason))

    def _cancel_unsent_tp(self, level: GridLevel) -> None:
        if self._tp_status(level) is OrderStatus.INTENT:
            self._cancel(level.tp_id(self.state.run_id), "level written off")

    def _order_qty(self, price: Decimal) -> Decimal:
        config, instrument = self.config, self.snap.instrument
        if config.order_qty is not None:
            qty = quantize_down(config.order_qty, instrument.qty_step)
            wanted = f"order_qty {config.order_qty}"
        else:
            assert config.order_notional_usd is not None
            qty = quantize_down(config.order_notional_usd / price, instrument.qty_step)
            wanted = f"order_notional_usd {config.order_notional_usd} at {price}"
        if qty < instrument.min_qty or qty <= 0:
            raise GridSizeError(
                f"grid {self.name}: {wanted} gives {qty} {instrument.symbol}, below the "
                f"minimum order {instrument.min_qty} (step {instrument.qty_step}) on "
                f"{instrument.venue}"
            )
        return qty

    def _target_price(self, entry: Decimal) -> Decimal:
        """The take-profit price for an entry: +take_profit_pct for a long grid, rounded to
        the tick away from the entry, so the profit is never less than configured."""
        factor = 1 + self.sign * self.config.take_profit_pct / HUNDRED
        rounding = ROUND_CEILING if self.sign > 0 else ROUND_FLOOR
        return _to_tick(entry * factor, self.snap.instrument.tick_size, rounding)

    def _tp_price(self, level: GridLevel) -> Decimal:
        assert level.entry_price is not None
        return level.tp_price or self._target_price(level.entry_price)

    def _intent(self, client_order_id: str, kind: OrderKind, **fields: Any) -> OrderIntent:
        return OrderIntent(
            client_order_id=client_order_id,
            strategy_name=self.name,
            venue=self.config.venue,
            symbol=self.config.symbol,
            purpose=kind.purpose,
            **fields,
        )

    def _open_intent(self, level: GridLevel) -> OrderIntent:
        return self._intent(
            level.open_id(self.state.run_id),
            OrderKind.OPEN,
            side=self.config.direction.open_side,
            order_type=OrderType.LIMIT,
            quantity=level.open_qty,
            price=level.open_price,
            post_only=level.post_only,
        )

    def _tp_intent(self, level: GridLevel) -> OrderIntent:
        return self._intent(
            level.tp_id(self.state.run_id),
            OrderKind.TAKE_PROFIT,
            side=self.config.direction.close_side,
            order_type=OrderType.MARKET if level.tp_market else OrderType.LIMIT,
            quantity=level.qty,
            price=None if level.tp_market else level.tp_price,
            reduce_only=True,
        )

    def _close_intent(self, client_order_id: str, qty: Decimal) -> OrderIntent:
        return self._intent(
            client_order_id,
            OrderKind.CLOSE,
            side=self.config.direction.close_side,
            order_type=OrderType.MARKET,
            quantity=qty,
            reduce_only=True,
        )


def _to_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick
