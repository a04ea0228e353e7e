"""A check of ours for the fuzz run (loaded with `SCHEMATHESIS_HOOKS=tests.fuzz.hooks`).

`schemathesis.toml` lets a schema-valid request be refused 422, because some rules no JSON
Schema can state answer 422 with codes of their own (the store's currency and limits, a
balance, fraud rules, a Luhn digit, one field against another, where a host resolves). This
check keeps that allowance from hiding a looser document: a schema-valid request refused by
the server's own kind of rule (type, format, pattern, bounds, enum, required, extra field:
422 `validation_error` from a built-in check rather than one of our validators) fails.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

# Our validators' refusals (cross-field rules, checksums): what a schema cannot say.
OUR_VALIDATORS = {"value_error", "assertion_error"}


@schemathesis.check
def document_states_every_input_rule(ctx: Any, response: Any, case: Any) -> None:
    """A request the document allows never fails a rule the document could have stated."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return
    if error.get("code") != "validation_error":
        return
    stateable = [
        detail for detail in error.get("details") or [] if detail.get("type") not in OUR_VALIDATORS
    ]
    if stateable:
        raise AssertionError(
            f"A schema-valid request failed checks the document should state: {stateable}"
        )


# Set by test_schemathesis.py for the run with another role's credentials.
EXPECT_REFUSAL = "FUZZ_EXPECT_REFUSAL"


@schemathesis.check
def another_roles_credentials_are_refused(ctx: Any, response: Any, case: Any) -> None:
    """With another role's token every operation refuses, whatever the input: 403 for a
    route of another role, 401 for the gateway (a token is not a store's key)."""
    if os.environ.get(EXPECT_REFUSAL) and response.status_code not in (401, 403):
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code} to another role's token"
        )
