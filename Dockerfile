# samenopvoeden: the bot as a non-root user, with its SQLite database on a volume.
# For PostgreSQL set DATABASE_URL=postgresql://user:pass@host/db and run `samenopvoeden db upgrade`
# once before starting.
#
# Two modes:
#   long polling (the default `run`), e.g.
#     docker run -e TELEGRAM_BOT_TOKEN=... -v sov:/data samenopvoeden
#   webhook (`run --webhook`): set SAMENOPVOEDEN_WEBHOOK_URL (the public https URL, e.g.
#     https://bot.example.org/telegram) and SAMENOPVOEDEN_WEBHOOK_SECRET, publish port 8080
#     (SAMENOPVOEDEN_WEBHOOK_PORT) behind an HTTPS proxy that forwards that path; GET /healthz
#     answers 200 while the database answers. docker-compose.yml runs two webhook instances on
#     PostgreSQL behind Caddy.
#
# `docker run --rm -e ... samenopvoeden check` prints what the configuration gets right and
# wrong, one line each (database first, then Telegram's getMe).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src

# 1. The dependencies, in a layer of their own: pyproject.toml alone decides it, so a change to
#    the source reuses it and only a change to the dependencies installs them again. The list
#    is read from pyproject.toml (runtime dependencies, the postgres extra, and the build
#    backend), so it is written down once.
COPY pyproject.toml ./
RUN python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb")); print("\n".join(p["project"]["dependencies"] + p["project"]["optional-dependencies"]["postgres"] + p["build-system"]["requires"]))' > requirements.txt \
    && pip install -r requirements.txt

# 2. The source, installed without dependencies (they are in the layer above).
COPY README.md ./
COPY bot ./bot
COPY flows ./flows
COPY messages ./messages
COPY storage ./storage
RUN pip install --no-deps --no-build-isolation . && rm -rf /src

RUN useradd --create-home --uid 10001 samenopvoeden \
    && mkdir /data && chown samenopvoeden /data
ENV DATABASE_URL=sqlite:////data/samenopvoeden.db
VOLUME ["/data"]
WORKDIR /data
USER samenopvoeden

# The webhook port (SAMENOPVOEDEN_WEBHOOK_PORT); unused when polling.
EXPOSE 8080

# Healthy while the database answers, in polling and webhook mode alike: `check --health`
# reads the same settings as the bot, connects and asks SELECT 1 (at most 5 s), and never
# calls Telegram (a health check every 30 s must not spend the bot's API calls or fail when
# Telegram has a bad minute). A process that dies ends the container; its restart policy
# covers that. The start period gives `run` time to create and migrate a new SQLite file.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["samenopvoeden", "check", "--health"]
ENTRYPOINT ["samenopvoeden"]
CMD ["run"]
