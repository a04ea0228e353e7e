"""Log lines never carry secrets, whoever logs them."""

from __future__ import annotations

import logging

import pytest

from core.logging import install_request_id, redact_secrets


def test_redact_secrets_masks_query_params_and_bearer_tokens() -> None:
    line = (
        "HTTP Request: POST http://bank/auth/bank-token"
        '?client_id=team042&client_secret=s3cr3t "200"'
        " Authorization: Bearer eyJhbGciOi.abc.def password=hunter2"
    )
    redacted = redact_secrets(line)
    assert "s3cr3t" not in redacted and "eyJhbGciOi" not in redacted and "hunter2" not in redacted
    assert "client_id=team042" in redacted
    assert "client_secret=***" in redacted


def test_library_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_request_id()
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            "HTTP Request: %s %s", "POST", "http://b/auth/bank-token?client_secret=top-secret-value"
        )
    assert caplog.records
    assert all("top-secret-value" not in r.getMessage() for r in caplog.records)
    assert "top-secret-value" not in caplog.text
