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
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY messages ./messages
COPY storage ./storage
RUN pip install ".[postgres]" && rm -rf /src

RUN useradd --create-home --uid 10001 samenopvoeden \
    && mkdir /data && chown samenopvoeden /data
ENV DATABASE_URL=sqlite:////data/samenopvoeden.db
VOLUME ["/data"]
WORKDIR /data
USER samenopvoeden

# The webhook port (SAMENOPVOEDEN_WEBHOOK_PORT); unused when polling.
EXPOSE 8080
ENTRYPOINT ["samenopvoeden"]
CMD ["run"]
