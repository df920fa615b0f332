# syntax=docker/dockerfile:1
# The base image, pinned by digest so that every rebuild starts from the same bytes:
# python:3.11-slim (Debian bookworm), the Python of requirements.lock. To move to a newer one,
# `docker buildx imagetools inspect python:3.11-slim`, copy the index digest here, rebuild and
# run `make image-test`; or build with `--build-arg PYTHON_IMAGE=...`.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

# Build stage: a virtualenv of the locked runtime dependencies, every file checked against its
# hash. Each one ships a manylinux wheel (hiredis and cryptography included): no compiler.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/hotline
COPY requirements.lock /tmp/requirements.lock
RUN /opt/hotline/bin/pip install --require-hashes --only-binary=:all: -r /tmp/requirements.lock

# Run stage: that virtualenv, the code and the message packs, owned by root and run as an
# unprivileged numeric user (no shell, no home, nothing it may write but /tmp).
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/hotline/bin:$PATH PYTHONPATH=/app \
    HOTLINE_LOCALES_DIR=/app/locales METRICS_HOST=0.0.0.0 METRICS_PORT=9090
COPY --from=build /opt/hotline /opt/hotline
WORKDIR /app
COPY bot ./bot
COPY flows ./flows
COPY locales ./locales
# the team's list of genuine channels (bot/genuine.py finds it here; GENUINE_CHANNELS_FILE
# names another, e.g. one mounted into the container)
COPY config ./config
USER 10001:10001
# webhook mode listens on 8080 (MODE=webhook, WEBHOOK_HOST=0.0.0.0); metrics and health on 9090
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-m", "bot.probe"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
