"""The Celery app. `celery -A tasks worker|beat|flower` works from the repository root.

Task modules are thin: they take ids, open a unit of work, call one method, commit and
return a small JSON result.
"""

from celery import Celery

from core.settings import get_settings

app = Celery(
    "perpbot",
    include=[
        "tasks.backtest_tasks",
        "tasks.health",
        "tasks.market_tasks",
        "tasks.ops_tasks",
        "tasks.strategy_tasks",
        "tasks.transfer_tasks",
    ],
)
app.config_from_object("celeryconfig")
if get_settings().signs_messages:
    # Registers the `auth` serializer with the key, certificate and store celeryconfig names;
    # decoders other than JSON (results, events) and it are disabled.
    app.setup_security(allowed_serializers={"json"}, serializer="json")

# Worker signal handlers: restore a dead worker's in-flight messages within seconds; refuse
# to start a worker or beat on a database of the other mode (paper/live).
import tasks.reclaim  # noqa: E402
import tasks.startup  # noqa: E402, F401

__all__ = ["app"]
