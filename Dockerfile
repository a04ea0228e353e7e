# One image for the API, the worker, migrations and the bank emulator (the command differs).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY api ./api
COPY workflows ./workflows
COPY activities ./activities
COPY models ./models
COPY core ./core
COPY processing ./processing
COPY connect ./connect
COPY contracts ./contracts
COPY analytics ./analytics
COPY bank_emulator ./bank_emulator
COPY telegram_standin ./telegram_standin
COPY banks ./banks
COPY launcher ./launcher
COPY migrations ./migrations
COPY alembic.ini worker.py ./
# Bytecode at build time: the worker's sandbox imports the workflow modules for every run.
RUN pip install -c constraints.txt . && python -m compileall -q /app && useradd --create-home jivapay
USER jivapay
EXPOSE 8000
# Forwarding headers are believed only from the proxies named here (none by default):
# uvicorn's own default trusts loopback, letting a local client pick its address.
ENV FORWARDED_ALLOW_IPS=""
# The app logs one line per request itself (route template, not the raw path and query).
# SIGTERM: the API drains for SHUTDOWN_DRAIN_SECONDS, then finishes its requests in flight
# (at most 30 s): give the container a stop timeout above the sum.
CMD ["sh", "-c", "exec uvicorn --factory api.main:create_default_app --host 0.0.0.0 --port 8000 --forwarded-allow-ips \"$FORWARDED_ALLOW_IPS\" --no-access-log --timeout-graceful-shutdown 30"]
