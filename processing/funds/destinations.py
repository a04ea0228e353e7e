"""Withdrawal destinations: a TRC-20 address or a bank card, checked and masked.

The checks are the maintained libraries' (`base58` for Base58Check, `python-stdnum` for
Luhn); the full value is stored only encrypted and shown only to the staff member paying.
"""

from __future__ import annotations

import re

import base58
from stdnum import luhn
from stdnum.exceptions import ValidationError

from core.errors import Invalid

# `T` + 33 base58 characters: 25 bytes, a Tron address (0x41 prefix) and its 4-byte checksum.
TRC20_PATTERN = re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$")
TRON_PREFIX = 0x41
CARD_PATTERN = re.compile(r"^[0-9]{12,19}$")


def checked(kind: str, value: str) -> tuple[str, str]:
    """(normalised value, masked value) of a valid destination; 422 otherwise."""
    if kind == "trc20":
        return value, check_trc20(value)
    return check_card(value)


def check_trc20(address: str) -> str:
    if not TRC20_PATTERN.match(address):
        raise Invalid("Not a TRC-20 address (T + 33 base58 characters)", code="invalid_address")
    try:
        payload = base58.b58decode_check(address)
    except ValueError as exc:
        raise Invalid("The TRC-20 address's checksum is wrong", code="invalid_address") from exc
    if len(payload) != 21 or payload[0] != TRON_PREFIX:
        raise Invalid("Not a Tron address", code="invalid_address")
    # Enough to recognise it, too little to send anything to it.
    return f"{address[:4]}…{address[-4:]}"


def check_card(number: str) -> tuple[str, str]:
    digits = number.replace(" ", "").replace("-", "")
    if not CARD_PATTERN.match(digits):
        raise Invalid("A card number has 12 to 19 digits", code="invalid_card")
    try:
        luhn.validate(digits)
    except ValidationError as exc:
        raise Invalid("The card number fails its check digit", code="invalid_card") from exc
    return digits, f"**** {digits[-4:]}"
