"""Nothing secret reaches the raw API log: tokens, client secret, passwords, JWTs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import astuple

from banks import BankClient, InMemoryRawLogSink, RawApiLogEntry, redact, redaction, truncate_utf8
from tests.bank_client.helpers import SECRET, EmulatorAdmin

MakeClient = Callable[..., BankClient]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZWFtMDQyIn0.c2lnbmF0dXJl"


def test_redact_covers_bodies_queries_headers_and_known_values() -> None:
    body = (
        f'{{"access_token": "{JWT}", "client_secret": "abc\\"def", '
        '"password": "pw1234", "amount": "10"}'
    )
    cleaned = redact(body)
    assert JWT not in cleaned and "abc" not in cleaned and "pw1234" not in cleaned
    assert '"amount": "10"' in cleaned
    query = redact("/auth/bank-token?client_id=team042&client_secret=top%2Fsecret&page=2")
    assert query == "/auth/bank-token?client_id=team042&client_secret=***&page=2"
    assert redact("Authorization: Bearer opaque-token-123") == "Authorization: Bearer ***"
    assert redact(f"free text with {JWT} inside") == "free text with *** inside"
    assert redact("url?x=top%2Fsecret and top/secret", ["top/secret"]) == "url?x=*** and ***"


def _redact_every_pattern(text: str) -> str:
    """`redact` without its shortcuts: every pattern over every text."""
    text = redaction._JWT.sub("***", text)
    text = redaction._BEARER.sub(r"\g<1>***", text)
    text = redaction._JSON_SECRET.sub(r'\g<1>"***"', text)
    return redaction._QUERY_SECRET.sub(r"\g<1>***", text)


def test_redact_skips_only_patterns_that_cannot_match() -> None:
    page = json.dumps(
        {
            "data": {
                "transaction": [
                    {"transactionId": f"tx-{n}", "amount": "10.00", "information": "Кофе ☕"}
                    for n in range(200)
                ]
            }
        },
        ensure_ascii=False,
    )
    samples = [
        page,
        page.replace("Кофе", f"bearer {JWT}"),
        '{"accessTOKEN": "x1", "ſecret_key": "x2", "passwd": "x3", "note": "token"}',
        "/x?ClientSecret=abc&authorızation=def&TOKEN=ghi&page=1",
        'İ token=İ&x=1 Bearer  abc, BEARER\tq "AUTHORIZATION" : "z"',
        "\u212aey=token; sesſion passWord=1; eyJa.b. eyJ.x.y",
    ]
    for text in samples:
        assert redact(text) == _redact_every_pattern(text), text


def test_truncation_keeps_utf8_whole_and_under_4kb() -> None:
    text = "Продукты " * 1000
    cut = truncate_utf8(text)
    assert len(cut.encode()) <= 4096 and cut.endswith("…")
    assert truncate_utf8("short") == "short"


def _all_text(entries: list[RawApiLogEntry]) -> str:
    return "\n".join(str(value) for entry in entries for value in astuple(entry))


async def test_recorded_exchanges_hold_no_secrets(
    make_client: MakeClient, admin: EmulatorAdmin, sink: InMemoryRawLogSink
) -> None:
    client = make_client("sbank")
    requested = await client.request_account_consent("team042-5")
    signed = await client.sign_account_consent("team042-5", SECRET, requested.request_id)
    assert signed.consent_id
    await client.list_accounts("team042-5", signed.consent_id)
    await admin.expire_tokens("sbank")
    await client.list_products()
    tokens = list(client._recent_tokens)
    assert len(tokens) == 2

    text = _all_text(list(sink.entries))
    assert SECRET not in text
    assert all(token not in text for token in tokens)
    assert "eyJ" not in text
    assert "client_secret=***" in text
    login = next(e for e in sink.entries if e.endpoint == "/auth/login")
    assert login.request_body == '{"username": "team042-5", "password": "***"}'
    assert login.external_client_id == "team042-5"
    assert all(
        e.response_body is None or len(e.response_body.encode()) <= 4096 for e in sink.entries
    )


async def test_a_failing_sink_never_fails_the_call(make_client: MakeClient) -> None:
    class BrokenSink:
        async def record(self, entry: RawApiLogEntry) -> None:
            raise RuntimeError("disk full")

    client = make_client("vbank", log_sink=BrokenSink())
    assert await client.list_products()
