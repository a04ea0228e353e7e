"""`python -m telegram_standin --host 127.0.0.1 --port 8105`: serve the Bot API stand-in
(any well-formed bot token is served)."""

from __future__ import annotations

import argparse

import uvicorn

from telegram_standin.app import create_standin_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Telegram Bot API stand-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8105)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = create_standin_app()
    # No access log: every Bot API URL carries the token.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
