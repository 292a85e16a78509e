"""Every Celery setting, read from `core.settings` (DESIGN.md section 7).

Correctness lives in PostgreSQL, not in the broker: every task is idempotent, which is what
makes `task_acks_late` + `task_reject_on_worker_lost` safe.
"""

from kombu import Exchange, Queue

from core.settings import get_settings

_settings = get_settings()

broker_url = _settings.celery_broker_url
result_backend = _settings.celery_result_backend

# JSON only: nothing a broker message carries can execute code on unpickling.
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
if _settings.signs_messages:
    # Message signing (PERPBOT_SIGNING_*): every task and control message is JSON signed
    # with this process's key (Celery's `auth` serializer), and only messages signed by a
    # certificate in the store are accepted; unsigned or altered ones are refused. Results
    # and events stay plain JSON. `tasks/__init__.py` calls `app.setup_security()`.
    task_serializer = "auth"
    accept_content = ["auth"]
    result_accept_content = ["json"]
    security_key = str(_settings.signing_key)
    security_certificate = str(_settings.signing_cert)
    security_cert_store = str(_settings.signing_cert_store)
    security_digest = "sha256"
    if _settings.signing_key_password is not None:
        security_key_password = _settings.signing_key_password.get_secret_value().encode()
timezone = "UTC"
enable_utc = True

# A task is acknowledged after it ran; if its process dies, the message goes back.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_track_started = True
task_time_limit = _settings.task_time_limit
task_soft_time_limit = _settings.task_soft_time_limit
result_expires = 24 * 3600
# A broker drop must never kill a task between the legs of an order: a running task keeps
# running (its message, unacknowledged, comes back once and is fenced by the strategy lock
# and the client ids). Celery 5.x's default cancels acks_late tasks on a connection loss.
worker_cancel_long_running_tasks_on_connection_loss = False
broker_connection_retry_on_startup = True
worker_send_task_events = True
task_send_sent_event = True

# The visibility timeout is above the longest a message may stay unacknowledged: the hard
# time limit plus the longest retry countdown (retry_backoff_max is 300 s). Long waits are
# rows polled by beat, never long countdowns, so this can stay short and crashed work comes
# back within minutes; the restore sweep runs every few seconds.
_visibility_timeout = _settings.task_time_limit + 300 + 60
broker_transport_options = {
    "visibility_timeout": _visibility_timeout,
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
    "socket_timeout": 30,
    "socket_connect_timeout": 10,
    "health_check_interval": 10,
    "global_keyprefix": _settings.broker_key_prefix,
}
result_backend_transport_options = {"global_keyprefix": _settings.broker_key_prefix}
result_backend_always_retry = True

_default = Exchange("perpbot", type="direct")
task_queues = (
    Queue("market", _default, routing_key="market"),
    Queue("strategy", _default, routing_key="strategy"),
    Queue("transfers", _default, routing_key="transfers"),
    Queue("default", _default, routing_key="default"),
)
task_default_queue = "default"
task_default_exchange = "perpbot"
task_default_routing_key = "default"
# Beat builds its entries from the strategy configs when it starts (beat_schedule.py).
beat_scheduler = "beat_schedule:PerpbotScheduler"
beat_schedule_filename = str(_settings.run_dir / "celerybeat-schedule")

task_routes = {
    "perpbot.market.*": {"queue": "market", "routing_key": "market"},
    "perpbot.strategy.*": {"queue": "strategy", "routing_key": "strategy"},
    "perpbot.transfers.*": {"queue": "transfers", "routing_key": "transfers"},
    # The breaker check shares the light market queue: a busy strategy queue must not
    # delay the check that may halt it.
    "perpbot.ops.*": {"queue": "market", "routing_key": "market"},
    "perpbot.maintenance.*": {"queue": "default", "routing_key": "default"},
}
