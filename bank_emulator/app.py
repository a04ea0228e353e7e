"""The emulator as FastAPI apps: one per bank, and all three mounted side by side."""

from __future__ import annotations

from fastapi import FastAPI

from bank_emulator import (
    merchant_inbox,
    rates,
    routes_accounts,
    routes_admin,
    routes_auth,
    routes_consents,
    routes_products,
)
from bank_emulator.config import BANK_CODES, BankConfig, EmulatorSettings
from bank_emulator.faults import install_fault_middleware
from bank_emulator.state import BankState


def create_bank_app(config: BankConfig) -> FastAPI:
    """One bank's API; its state lives on `app.state.bank` (no lifespan: mounts skip it)."""
    app = FastAPI(
        title=f"{config.name} sandbox emulator",
        description="Emulator of the OpenBanking Russia v2.1-style sandbox bank template.",
    )
    state = BankState(config)
    app.state.bank = state
    for module in (routes_auth, routes_consents, routes_accounts, routes_products, routes_admin):
        app.include_router(module.router)
    install_fault_middleware(app, state)
    return app


def create_emulator_app(settings: EmulatorSettings | None = None) -> FastAPI:
    """VBank, ABank and SBank at `/vbank`, `/abank`, `/sbank`, `GET /health`, and the demo
    store's callback inbox at `/merchant-inbox/callbacks`, and exchange rates at `/rates`."""
    settings = settings or EmulatorSettings()
    app = FastAPI(title="JivaPay bank emulator")
    app.include_router(merchant_inbox.router)
    app.include_router(rates.router)
    app.state.rates = rates.RateBook()
    app.state.admin_token = settings.admin_token.get_secret_value()
    banks = {code: create_bank_app(settings.bank_config(code)) for code in BANK_CODES}
    app.state.banks = banks

    @app.get("/health")
    async def health() -> dict[str, object]:
        """Alive, with each bank's anchor date."""
        anchors = {
            code: bank.state.bank.config.anchor_date.isoformat() for code, bank in banks.items()
        }
        return {"status": "ok", "banks": sorted(banks), "anchor_dates": anchors}

    for code, bank_app in banks.items():
        app.mount(f"/{code}", bank_app)
    return app
