"""`python -m bank_emulator --host 127.0.0.1 --port 8100`: serve the three banks with uvicorn.

Configuration comes from `BANK_EMULATOR_*` environment variables (see `config.py`).
"""

from __future__ import annotations

import argparse

import uvicorn

from bank_emulator.app import create_emulator_app
from bank_emulator.config import EmulatorSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Sandbox bank emulator (VBank, ABank, SBank)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_emulator_app(EmulatorSettings())
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
