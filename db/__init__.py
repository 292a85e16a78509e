"""PostgreSQL persistence: models, engine/session factory, unit of work, repositories.

Nothing here imports `strategies` or `tasks`; they depend on this package, not the reverse.
"""
