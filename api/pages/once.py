"""What a page shows once: a new API key, a signing secret, a one-time password, recovery
codes. The form's POST keeps it here and redirects (Post/Redirect/Get), the next GET shows it
and it is gone: a reload neither repeats the action nor shows the secret again.

Kept in the shared cache (Redis: any replica serves the GET), encrypted with the secrets-at-
rest key, for a few minutes, under a random handle in an HttpOnly cookie (never in a URL),
and only to the same user.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import Response

COOKIE = "jivapay_once"
KEPT_S = 300  # long enough to follow the redirect, short enough not to linger


def _key(page: str, handle: str) -> str:
    # The page that shows it is part of the key: another page visited first finds nothing
    # (and leaves it for the page it is meant for).
    return f"page-once:{page}:{handle}"


async def keep(
    request: Request, answer: Response, user_id: uuid.UUID, page: str, shown: dict[str, Any]
) -> None:
    """Keep `shown` for this user's `page`: the handle goes with `answer` (the redirect)."""
    ctx = request.app.state.ctx
    handle = secrets.token_urlsafe(24)
    sealed = ctx.secrets.encrypt(json.dumps({"user": str(user_id), "shown": shown}))
    await ctx.cache.set(_key(page, handle), sealed, KEPT_S)
    answer.set_cookie(
        COOKIE,
        handle,
        max_age=KEPT_S,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.environment != "development",
    )


async def take(request: Request, user_id: uuid.UUID, page: str) -> dict[str, Any] | None:
    """What was kept for this user's `page`, removed as it is read (None the second time).
    The page that got something drops the handle's cookie (`forget`)."""
    handle = request.cookies.get(COOKIE)
    if not handle:
        return None
    ctx = request.app.state.ctx
    sealed = await ctx.cache.pop(_key(page, handle))
    if sealed is None:
        return None
    kept = json.loads(ctx.secrets.decrypt(sealed))
    if kept["user"] != str(user_id):  # another account signed in meanwhile: not theirs
        return None
    shown: dict[str, Any] = kept["shown"]
    return shown


def forget(answer: Response) -> None:
    """The page that read the handle drops its cookie."""
    answer.delete_cookie(COOKIE)
