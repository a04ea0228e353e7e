"""Logs: one JSON schema for the API, the worker and the launcher (console lines in
development), every record carrying the request id and, inside an activity, where it runs.

Secrets are masked in every record, whoever logs it (httpx puts whole URLs in its lines).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

from contracts.tracing import activity_context_var, request_id_var

__all__ = ["configure_logging", "install_request_id", "redact_secrets", "request_id_var"]

CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s%(where)s] %(message)s"
JSON_FIELDS = ["timestamp", "levelname", "name", "message", "request_id"]
CONTEXT_FIELDS = ("workflow_id", "run_id", "activity", "attempt")
_base_factory = logging.getLogRecordFactory()


# Secrets that libraries may put in a log line (httpx logs whole URLs with their query).
_SECRET_PARAM = re.compile(
    r"(?i)((?:client_secret|access_token|refresh_token|password|api_key|token)=)[^&\s\"']+"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# The Telegram Bot API puts the bot's token in the path: /bot<id>:<secret>/sendMessage.
_BOT_TOKEN = re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+")


def redact_secrets(text: str) -> str:
    text = _BOT_TOKEN.sub(r"\1***", text)
    return _BEARER.sub(r"\1***", _SECRET_PARAM.sub(r"\1***", text))


def _record_with_context(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = request_id_var.get()
    context = activity_context_var.get() or {}
    for name in CONTEXT_FIELDS:
        setattr(record, name, context.get(name))
    record.where = f" wf={context['workflow_id']} act={context['activity']}" if context else ""
    message = record.getMessage()
    redacted = redact_secrets(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    return record


def install_request_id() -> None:
    """Every log record carries the request id (and activity context) and has secrets
    masked, whichever handler sees it."""
    logging.setLogRecordFactory(_record_with_context)


class _JsonLines(JsonFormatter):
    """Activity context fields only where they are set; the console-only field never."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        log_data.pop("where", None)
        for name in CONTEXT_FIELDS:
            if log_data.get(name) is None:
                log_data.pop(name, None)
        return log_data


def json_formatter(service: str) -> logging.Formatter:
    return _JsonLines(
        JSON_FIELDS,
        rename_fields={"levelname": "level", "name": "logger"},
        static_fields={"service": service},
        timestamp=True,
    )


def configure_logging(
    level: str = "INFO", *, service: str = "api", style: Literal["json", "console"] = "json"
) -> None:
    install_request_id()
    handler = logging.StreamHandler(sys.stderr)
    if style == "json":
        handler.setFormatter(json_formatter(service))
    else:
        handler.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own loggers go through the same handler so they carry the request id too.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # The app writes one line per request itself (`jivapay.access`: the route template, not
    # the raw path and query). uvicorn logs its own only while this logger has a handler.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
    # Every bank exchange is already in raw_api_logs, redacted; httpx's per-request lines
    # would only repeat them (with query strings) in the process log.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
