"""Bring back, within seconds, the messages a dead worker was holding.

With the Redis transport, a message a worker has received but not acknowledged (acks_late)
sits in kombu's "unacked" hash. If the worker's pool process dies, the worker itself rejects
the message and it is redelivered at once (`task_reject_on_worker_lost`). If the whole worker
dies (SIGKILL, OOM, a lost machine), nobody acknowledges or rejects it, and kombu restores it
only after the visibility timeout — minutes, by design, so that slow tasks are not
duplicated.

This module closes that gap without shortening the visibility timeout:
- every worker keeps a heartbeat key alive in Redis (refreshed every `HEARTBEAT_SECONDS`,
  expiring after `HEARTBEAT_TTL`);
- every message a worker receives is recorded as in flight (delivery tag -> worker) until its
  task has run;
- every worker, every few seconds, restores the in-flight messages of workers whose heartbeat
  has expired, through kombu's own `restore_by_tag` (atomic: a message is restored once,
  whoever else tries).
A worker that only stalls longer than the TTL may see its message run twice; every perpbot
task is idempotent and fenced by the strategy lock, which is what makes that safe.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from celery import Celery
from celery.signals import celeryd_after_setup, task_postrun, task_received, worker_shutdown
from kombu import Connection
from kombu.transport.redis import Channel as RedisChannel
from kombu.transport.redis import QoS as RedisQoS

from core.settings import get_settings

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
HEARTBEAT_TTL = 8


def _key(name: str) -> str:
    return f"{get_settings().broker_key_prefix}perpbot:{name}"


def _client() -> redis.Redis:
    return redis.Redis.from_url(get_settings().celery_broker_url, socket_timeout=5)


class Reclaimer:
    def __init__(self, app: Celery, hostname: str) -> None:
        self.app = app
        self.hostname = hostname
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="perpbot-reclaimer", daemon=True)
        self._redis = _client()

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._redis.delete(_key(f"alive:{self.hostname}"))

    def beat(self) -> None:
        self._redis.set(_key(f"alive:{self.hostname}"), "1", ex=HEARTBEAT_TTL)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self.beat()
                self.reclaim()
            except Exception:  # a Redis blip must not kill the thread; next round retries
                logger.exception("reclaimer round failed")

    def reclaim(self) -> list[str]:
        """Restore the in-flight messages of workers that stopped beating; return task ids."""
        dead: dict[str, tuple[str, str]] = {}
        for task_id, value in self._redis.hgetall(_key("inflight")).items():
            host, _, tag = _text(value).partition("|")
            if host != self.hostname and not self._redis.exists(_key(f"alive:{host}")):
                dead[_text(task_id)] = (host, tag)
        if not dead:
            return []
        with self.app.connection_for_write() as connection:
            qos = _redis_qos(connection)
            for task_id, (host, tag) in dead.items():
                qos.restore_by_tag(tag, leftmost=True)
                self._redis.hdel(_key("inflight"), task_id)
                logger.warning("restored task %s held by dead worker %s", task_id, host)
        return sorted(dead)


def _text(value: bytes | str) -> str:
    """A Redis reply as text (this client does not decode replies: they arrive as bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def _redis_qos(connection: Connection) -> RedisQoS:
    """The Redis transport's QoS, which restores a message by its delivery tag."""
    channel = connection.default_channel
    qos = channel.qos if isinstance(channel, RedisChannel) else None
    if not isinstance(qos, RedisQoS):
        raise TypeError(
            "the reclaimer restores messages through kombu's Redis transport; "
            f"the broker's channel is {type(channel).__name__}"
        )
    return qos


_reclaimer: Reclaimer | None = None


@celeryd_after_setup.connect
def _start_reclaimer(sender: str, instance: Any, **kwargs: Any) -> None:
    global _reclaimer
    _reclaimer = Reclaimer(instance.app, sender)
    _reclaimer.start()


@worker_shutdown.connect
def _stop_reclaimer(**kwargs: Any) -> None:
    if _reclaimer is not None:
        _reclaimer.stop()


@task_received.connect
def _mark_inflight(request: Any, **kwargs: Any) -> None:
    """In the worker's main process, as a message arrives: task id -> "worker|delivery tag"."""
    message = getattr(request, "message", None)
    tag = getattr(message, "delivery_tag", None)
    if tag is not None and _reclaimer is not None:
        _reclaimer._redis.hset(_key("inflight"), request.id, f"{_reclaimer.hostname}|{tag}")


@task_postrun.connect
def _clear_inflight(task_id: str, **kwargs: Any) -> None:
    client = _client()
    try:
        client.hdel(_key("inflight"), task_id)
    finally:
        client.close()
