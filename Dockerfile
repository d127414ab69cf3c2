# syntax=docker/dockerfile:1
# ai-trends-bot: `docker build -t ai-trends-bot .` then `docker compose up` (see compose.yaml).
# Secrets (SLACK_*, DISCORD_TOKEN, API keys) come from the environment at run time, never the image.

# --- builder: a wheel of the project, installed with the pinned constraints into a venv -------------
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CONSTRAINT=/src/constraints.txt
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt README.md ./
COPY alembic ./alembic
COPY bot ./bot
COPY adapters ./adapters
# The wheel carries the migrations inside the package (bot/_alembic, hatch force-include).
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install /wheels/*.whl

# --- final: the venv on a slim Python, run as an unprivileged user ------------------------------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 trends \
    && useradd --system --uid 10001 --gid trends --create-home --home-dir /app trends \
    && mkdir /app/data \
    && chown trends /app/data
COPY --from=builder /opt/venv /opt/venv
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/trends-entrypoint
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TRENDS_LOG_FORMAT=json \
    TRENDS_DATABASE_URL=sqlite:////app/data/trends.db
WORKDIR /app
USER 10001:10001
VOLUME ["/app/data"]
# Slack HTTP mode (POST /slack/events, GET /healthz); unused with Socket Mode or Discord only.
EXPOSE 3000
# GET /healthz of `trends run` (TRENDS_HEALTH_PORT): database, scheduler, each chat connection; 200/503.
EXPOSE 8080
# Healthy when the database answers and a replica holds the scheduler lease (bot/health.py).
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 CMD ["trends", "status", "--check"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["trends-entrypoint"]
