"""The operator's web dashboard: a read model over the PostgreSQL tables the system already
writes, plus the manual operations (pause, resume, close, rebalance) enqueued as the same
Celery tasks the CLI sends. It never talks to a venue.

`dashboard.app.create_app()` builds the ASGI app; `trading_bot.py dashboard` serves it.
"""
