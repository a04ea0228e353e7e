"""Graceful shutdown behind a load balancer.

uvicorn (0.54) answers SIGTERM by closing its listener within a tenth of a second, and only
then runs the lifespan's shutdown: by the time the app could say "not ready", nobody can
reach it, and a balancer that still counts the replica as up sends it requests that fail.
So the app steps in front of uvicorn's SIGTERM handler: the signal marks the process as
draining (`/health` and `/ready` answer 503 `draining`; every other request is served as
usual) and is handed on to uvicorn `shutdown_drain_seconds` later. uvicorn then stops
accepting, lets the requests in flight finish (`--timeout-graceful-shutdown` bounds them) and
runs the lifespan's shutdown. SIGINT (Ctrl-C) is left to uvicorn: it stops at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import threading
from types import FrameType
from typing import Any

from uvicorn.server import Server

log = logging.getLogger(__name__)


class Drain:
    """Whether this process is leaving rotation, and the SIGTERM hook that starts it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.draining = False

    def install(self) -> bool:
        """Take SIGTERM over from uvicorn's server, only when that is who handles it: under
        a test runner or another server the signal is left alone."""
        if self.seconds <= 0 or threading.current_thread() is not threading.main_thread():
            return False
        uvicorn_exit = signal.getsignal(signal.SIGTERM)
        if not isinstance(getattr(uvicorn_exit, "__self__", None), Server):
            return False
        loop = asyncio.get_running_loop()

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            # A signal handler runs between two bytecodes of the main thread: it only sets
            # a flag and schedules; the loop does the rest. In a context of its own: the
            # bytecode it interrupted may be a request's, whose id is no part of the drain.
            fresh = contextvars.Context()
            if self.draining:  # asked twice: stop now
                loop.call_soon_threadsafe(_hand_on, uvicorn_exit, signum, context=fresh)
                return
            self.draining = True
            loop.call_soon_threadsafe(self._begin, loop, uvicorn_exit, signum, context=fresh)

        signal.signal(signal.SIGTERM, on_sigterm)
        return True

    def _begin(self, loop: asyncio.AbstractEventLoop, uvicorn_exit: Any, signum: int) -> None:
        log.warning("draining: out of rotation, stopping in %s s", self.seconds)
        loop.call_later(self.seconds, _hand_on, uvicorn_exit, signum)


def _hand_on(uvicorn_exit: Any, signum: int) -> None:
    log.warning("drained: closing the listener, finishing the requests in flight")
    uvicorn_exit(signum, None)
