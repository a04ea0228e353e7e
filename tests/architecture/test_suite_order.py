"""The suite's list of its longest files names files that exist (a renamed or deleted file
would silently drop out of the order that keeps both xdist workers busy to the end)."""

from __future__ import annotations

from core.settings import ROOT_DIR
from tests.conftest import LONGEST_FIRST


def test_every_file_of_the_longest_first_order_exists() -> None:
    missing = [path for path in LONGEST_FIRST if not (ROOT_DIR / path).is_file()]
    assert missing == []
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
