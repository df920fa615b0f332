# syntax=docker/dockerfile:1
# Build stage: wheels of the project and its dependencies (hiredis and cryptography compile here).
FROM python:3.11-slim AS build
WORKDIR /src
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Run stage: only the wheels, the message packs and an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOTLINE_LOCALES_DIR=/app/locales
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin hotline
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
COPY --chown=root:root locales ./locales
USER hotline
# Webhook mode listens here (MODE=webhook, WEBHOOK_HOST=0.0.0.0); polling needs no port.
EXPOSE 8080
ENTRYPOINT ["hotline"]
CMD ["run"]
