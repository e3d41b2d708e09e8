# samenopvoeden: the bot as a non-root user, with its SQLite database on a volume.
# For PostgreSQL set DATABASE_URL=postgresql://user:pass@host/db and run `samenopvoeden db upgrade`
# once before starting.
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

ENTRYPOINT ["samenopvoeden"]
CMD ["run"]
