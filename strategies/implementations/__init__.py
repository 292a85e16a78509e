"""Level 3: concrete strategies, one package each. They import only the component
interfaces and the categories, never Celery, SQLAlchemy, ccxt, `db` or `tasks`."""
