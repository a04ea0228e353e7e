"""`make run` seeds a team lead with two traders and a share, once: a second start changes
nothing, and keeps what an administrator changed. The banner says where to look."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from core.db import build_engine
from core.migrate import upgrade
from core.security import SecretBox
from core.settings import Settings
from launcher.__main__ import print_banner
from launcher.seed import seed
from models.teams import Team
from models.traders import Trader
from models.users import Role, User


def test_the_demo_team_is_seeded_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(environment="development", data_dir=tmp_path)
    upgrade(settings.effective_database_url)
    engine = build_engine(settings)
    box, credentials = SecretBox(settings.fernet_keys), tmp_path / "demo-credentials.json"
    seed(engine, box, credentials, settings)

    def team() -> tuple[Team, list[str]]:
        with Session(engine) as session:
            row = session.exec(
                select(Team)
                .join(User, col(User.id) == Team.lead_user_id)
                .where(User.email == "lead1@jivapay.dev", User.role == Role.teamlead)
            ).one()
            members = session.exec(
                select(User.email)
                .join(Trader, col(Trader.user_id) == User.id)
                .where(Trader.team_id == row.id)
                .order_by(col(User.email))
            ).all()
            return row, list(members)

    first, members = team()
    assert (first.name, first.share_bps) == ("Demo Team", 2000)
    assert members == ["trader1@jivapay.dev", "trader2@jivapay.dev"]
    # An administrator changes the share: the next start keeps it and adds no second team.
    with Session(engine) as session:
        row = session.get(Team, first.id)
        assert row is not None
        row.share_bps = 1500
        session.add(row)
        session.commit()
    credentials_out = seed(engine, box, credentials, settings)
    again, members = team()
    assert (again.id, again.share_bps) == (first.id, 1500)
    assert members == ["trader1@jivapay.dev", "trader2@jivapay.dev"]
    with Session(engine) as session:
        assert len(session.exec(select(Team)).all()) == 1
    engine.dispose()

    print_banner(settings, credentials_out, None)
    out = capsys.readouterr().out
    assert "lead1@jivapay.dev leads 'Demo Team' (traders: trader1, trader2)" in out
    assert "earns 15 % of their rewards" in out
    assert "teamlead      lead1@jivapay.dev" in out
