"""A form's validation problems in plain words, one message per field, for the page to show
next to the field (and the typed values shown again). Mapped from the validator's error
*type* and its limits, never from its message: that names regexes and Python types."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

# What a field's value has to look like, where a pattern or a validator decides it.
SHAPES = {
    "callback_url": "Enter a web address that starts with https:// (or http://), like "
    "https://shop.example/jivapay.",
    "currency": "Enter a currency code of capital letters, like RUB or USD.",
    "email": "Enter an email address, like name@example.com.",
    "role": "Choose a role from the list.",
    "outcome": "Choose an outcome from the list.",
}
# By error type: `{…}` are the limits the validator reports.
WORDS = {
    "missing": "Fill this in.",
    "string_too_short": "Use at least {min_length} characters.",
    "too_short": "Use at least {min_length} characters.",
    "string_too_long": "Use at most {max_length} characters.",
    "too_long": "Use at most {max_length} characters.",
    "greater_than": "Enter a number above {gt}.",
    "greater_than_equal": "Enter {ge} or more.",
    "less_than": "Enter a number below {lt}.",
    "less_than_equal": "Enter {le} or less.",
    "decimal_parsing": "Enter a number, like 1500.00.",
    "decimal_max_places": "Use at most {decimal_places} digits after the point.",
    "int_parsing": "Enter a whole number.",
    "bool_parsing": "Choose yes or no.",
    "uuid_parsing": "This is not an id we know.",
}
FALLBACK = "This value is not accepted: check it and try again."


def _words(field: str, kind: str, limits: dict[str, Any]) -> str:
    if kind == "string_too_short" and limits.get("min_length") == 1:
        return WORDS["missing"]
    if kind in WORDS:
        return WORDS[kind].format(**{k: str(v) for k, v in limits.items()})
    # A pattern, an email or URL check, a choice: say what the field needs to look like.
    return SHAPES.get(field, FALLBACK)


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Field name → one plain message (the first problem of each field)."""
    found: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        found.setdefault(field, _words(field, err["type"], err.get("ctx") or {}))
    return found


def one_line(errors: dict[str, str]) -> str:
    """The same problems as one line, each after its field's name in words."""
    return " ".join(
        f"{field.replace('_', ' ').capitalize()}: {words}" if field else words
        for field, words in errors.items()
    )
