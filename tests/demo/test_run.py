"""What `alternance-hub demo` says about the databases it creates (never a password)."""

from __future__ import annotations

import pytest

from demo.run import _describe_databases


def test_the_demo_names_the_postgresql_schema_it_recreates(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HUB_CFA_BTP_DSN", raising=False)
    monkeypatch.delenv("HUB_CFA_HOTELLERIE_DSN", raising=False)
    _describe_databases(
        {
            "HUB_CFA_BTP_DSN": "sqlite+aiosqlite:////tmp/demo-x/cfa-btp.sqlite3",
            "HUB_CFA_HOTELLERIE_DSN": "postgresql+asyncpg://hub:s3cret@127.0.0.1:5432/test",
        }
    )
    said = capsys.readouterr().out
    assert "cfa-btp: SQLite file /tmp/demo-x/cfa-btp.sqlite3" in said
    assert "PostgreSQL schema cfa_hotellerie in database test at 127.0.0.1:5432" in said
    assert "dropped and recreated at each start" in said
    assert "s3cret" not in said
