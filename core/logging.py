"""Logging with the request id of the current HTTP request on every line."""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s] %(message)s"
_base_factory = logging.getLogRecordFactory()


# Secrets that libraries may put in a log line (httpx logs whole URLs with their query).
_SECRET_PARAM = re.compile(
    r"(?i)((?:client_secret|access_token|refresh_token|password|api_key|token)=)[^&\s\"']+"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact_secrets(text: str) -> str:
    return _BEARER.sub(r"\1***", _SECRET_PARAM.sub(r"\1***", text))


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    message = record.getMessage()
    redacted = redact_secrets(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    return record


def install_request_id() -> None:
    """Every log record carries the current request id and has secrets masked, whichever
    handler sees it."""
    logging.setLogRecordFactory(_record_with_request_id)


def configure_logging(level: str = "INFO") -> None:
    install_request_id()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own loggers go through the same handler so they carry the request id too.
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Every bank exchange is already in raw_api_logs, redacted; httpx's per-request lines
    # would only repeat them (with query strings) in the process log.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
