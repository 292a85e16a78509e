FROM python:3.11-slim
WORKDIR /app
RUN useradd --create-home perpbot
COPY pyproject.toml README.md ./
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
RUN pip install --no-cache-dir .
USER perpbot
