"""Codes no other test uses, and the admin's calls on reference data."""

from __future__ import annotations

import secrets
import string
from typing import Any

import httpx
from sqlmodel import Session, col, select

from core.context import ServiceContext
from models.audit import AuditEntry

ADMIN = "/api/admin/reference"


def currency_code() -> str:
    return "Q" + "".join(secrets.choice(string.ascii_uppercase) for _ in range(5))


def lower_code(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


async def created(
    api: httpx.AsyncClient, headers: dict[str, str], kind: str, body: dict[str, Any]
) -> dict[str, Any]:
    answer = await api.post(f"{ADMIN}/{kind}", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def error(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()["error"]
    return result


def audit_rows(ctx: ServiceContext, target_type: str, target_id: str) -> list[AuditEntry]:
    with Session(ctx.engine) as session:
        query = (
            select(AuditEntry)
            .where(AuditEntry.target_type == target_type, AuditEntry.target_id == target_id)
            .order_by(col(AuditEntry.at))
        )
        return list(session.exec(query))
