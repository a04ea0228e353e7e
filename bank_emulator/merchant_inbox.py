"""A merchant's callback endpoint for `make run`'s demo store: it keeps what it receives so a
newcomer can see the signed events arrive and verify them with the printed signing secret
(the Standard Webhooks libraries need the raw body and three headers, all kept here)."""

from __future__ import annotations

from collections import deque
from threading import Lock

from fastapi import APIRouter, Request, Response

KEPT = 100
SIGNED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")

router = APIRouter(prefix="/merchant-inbox", tags=["demo merchant"])
_received: deque[dict[str, object]] = deque(maxlen=KEPT)
_lock = Lock()


@router.post("/callbacks", status_code=204)
async def receive(request: Request) -> Response:
    """Take a callback (answered 204, as a merchant that accepted it would)."""
    body = (await request.body()).decode(errors="replace")
    headers = {name: request.headers.get(name, "") for name in SIGNED_HEADERS}
    with _lock:
        _received.appendleft({"headers": headers, "body": body})
    return Response(status_code=204)


@router.get("/callbacks")
def received() -> list[dict[str, object]]:
    """The last callbacks received, newest first: the raw body and the signature headers."""
    with _lock:
        return list(_received)
