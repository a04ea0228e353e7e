"""Redaction of bank exchanges before they reach a log: tokens, secrets and passwords blanked.

`redact` blanks credentials in bodies, URLs and query strings; `truncate_utf8` caps a logged
body at a byte budget without splitting a character. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MAX_LOGGED_BODY_BYTES = 4096
REDACTED = "***"
# Names of fields and parameters whose values are credentials (a pattern, not a secret).
_SECRET_KEY = r"[A-Za-z_-]*(?:token|secret|password|passwd|authorization)[A-Za-z_-]*"  # noqa: S105
_JSON_SECRET = re.compile(rf'("{_SECRET_KEY}"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE)
_QUERY_SECRET = re.compile(rf"(\b{_SECRET_KEY}=)[^&\s#\"]*", re.IGNORECASE)
_BEARER = re.compile(r"(\bBearer\s+)[^\s\"',]+", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Every match of the patterns above holds "eyJ", "bearer" or one of these words, in letters
# that `str.lower()` turns into the ASCII ones — except these three, which IGNORECASE also
# takes for i and s: a text holding one gets every pattern. (Replacements only insert "***",
# so they never make a word appear.)
_SECRET_WORDS = ("token", "secret", "passw", "authorization")
_UNUSUAL_CASE = ("\u0130", "\u0131", "\u017f")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Blank out tokens, secrets and passwords in a body, URL or query string.

    Known secret values are removed wherever they appear (also URL-encoded); then anything
    shaped like a JWT, a Bearer credential, or a JSON field / query parameter whose name says
    token, secret, password or authorization.
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, REDACTED)
    # A pattern runs only where it could match: a page of transactions (tens of KB, logged
    # for every page of a sync) rarely holds any of the words, and skipping is exact (below).
    lowered = text.lower()
    unusual = any(char in text for char in _UNUSUAL_CASE)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    if unusual or "bearer" in lowered:
        text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    if unusual or any(word in lowered for word in _SECRET_WORDS):
        text = _JSON_SECRET.sub(rf'\g<1>"{REDACTED}"', text)
        text = _QUERY_SECRET.sub(rf"\g<1>{REDACTED}", text)
    return text


def truncate_utf8(text: str, limit: int = MAX_LOGGED_BODY_BYTES) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"
