"""A merchant's callback endpoint for the benchmarks: answers every POST with 204, in its own
process (uvicorn), so delivering callbacks costs what it costs against a real receiver."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from launcher.services import free_port, port_open

# Which processes are receivers (bench/cpu.py names them apart from the workers).
RECEIVER_PIDS: set[int] = set()
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the body: a signed event, accepted as it is
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _serve(port: int) -> None:
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def callback_receiver() -> Iterator[str]:
    """The receiver's URL while it runs."""
    import multiprocessing

    port = free_port()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    process.start()
    if process.pid is not None:
        RECEIVER_PIDS.add(process.pid)
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port):
            if time.monotonic() > deadline or not process.is_alive():
                raise RuntimeError("the callback receiver did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/callbacks"
    finally:
        process.terminate()
        process.join(10)
