"""`alternance-hub audit purge|export` on real SQLite databases, and the settings behind them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from gateway.cli import main
from gateway.personal_stores import StoreConfigError, personal_stores_from_settings
from gateway.settings import Settings
from identity.principal import new_principal
from store.audit import Action, AuditLog, RecordRef
from store.database import create_engine
from store.migrate import upgrade
from tests.store.conftest import Clock

AUDIT_KEY = "an-audit-key-of-at-least-32-characters"
PEPPER = "a-test-pepper-of-at-least-32-characters"
CENTRE = new_principal("TRAINING_CENTRE", "0732727T", "staff-17", client_id="cli_0123456789ab")


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/var/hub.sqlite3"
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    monkeypatch.setenv("HUB_AUDIT_KEY", AUDIT_KEY)
    monkeypatch.setenv("HUB_API_KEY_PEPPER", PEPPER)
    return url


def _seed(url: str, days_ago: list[int]) -> list[str]:
    """One event per entry, that many days before now; their ids, oldest first."""

    async def run() -> list[str]:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            ids = []
            for days in sorted(days_ago, reverse=True):
                clock = Clock(datetime.now(UTC))
                clock.advance(days=-days)
                event = await AuditLog(engine, AUDIT_KEY.encode(), clock).record(
                    CENTRE,
                    operation="Dossier",
                    action=Action.READ,
                    entity="Candidate",
                    records=[RecordRef("cfa-btp", f"c-{days}")],
                )
                ids.append(event.id)
            return ids
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_purge_removes_events_past_the_retention_setting(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(database, [400, 100, 1])
    assert main(["audit", "purge"]) == 0  # default: HUB_AUDIT_RETENTION_DAYS, 365
    assert "1 audit events older than 365 days removed" in capsys.readouterr().out
    monkeypatch.setenv("HUB_AUDIT_RETENTION_DAYS", "30")
    assert main(["audit", "purge"]) == 0
    assert "1 audit events older than 30 days removed" in capsys.readouterr().out
    assert main(["audit", "purge", "--older-than-days", "30"]) == 0
    assert "0 audit events" in capsys.readouterr().out
    assert main(["audit", "export"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # the event of yesterday is kept
    assert main(["audit", "purge", "--older-than-days", "0"]) == 2


def test_purge_needs_no_audit_key(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(database, [10])
    monkeypatch.delenv("HUB_AUDIT_KEY")
    assert main(["audit", "purge", "--older-than-days", "5"]) == 0
    assert "1 audit events older than 5 days removed" in capsys.readouterr().out


def test_export_writes_json_lines_to_stdout_or_a_file(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(database, [20, 10, 2])
    assert main(["audit", "export"]) == 0
    out, err = capsys.readouterr()
    events = [orjson.loads(line) for line in out.splitlines()]
    assert [e["id"] for e in events] == ids and "3 audit events exported" in err
    assert set(events[0]) == {
        "id",
        "at",
        "client_id",
        "role",
        "organisation",
        "subject_ref",
        "operation",
        "action",
        "entity",
        "record_refs",
        "outcome",
        "detail",
    }
    assert "staff-17" not in out and "c-20" not in out
    target = tmp_path / "audit.jsonl"
    now = datetime.now(UTC)
    since = (now.replace(microsecond=0) - timedelta(days=15)).isoformat()
    until = (now - timedelta(days=5)).date().isoformat()  # a bare date: midnight UTC
    assert main(["audit", "export", "--since", since, "--until", until, "-o", str(target)]) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [orjson.loads(line)["id"] for line in lines] == [ids[1]]
    assert main(["audit", "export", "--since", "last tuesday"]) == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_the_commands_say_when_the_audit_store_is_unusable(
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{blocker}/hub.sqlite3")
    assert main(["audit", "purge"]) == 1
    assert "the audit store cannot be used" in capsys.readouterr().err
    assert main(["audit", "export"]) == 1


def test_a_separate_audit_database_holds_the_trail(
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    audit_url = f"sqlite:///{tmp_path}/audit/audit.sqlite3"
    monkeypatch.setenv("HUB_AUDIT_DATABASE_URL", audit_url)
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "gateway database at revision" in out and "audit database at revision" in out
    _seed(audit_url, [3])
    assert main(["audit", "export"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    monkeypatch.delenv("HUB_AUDIT_DATABASE_URL")
    assert main(["audit", "export"]) == 0  # the gateway database has none of it
    assert capsys.readouterr().out == ""


async def test_the_stores_are_built_from_the_settings(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/hub.sqlite3")
    try:
        await upgrade(engine)
        settings = Settings(audit_key=AUDIT_KEY, api_key_pepper=PEPPER, idempotency_ttl_s=600)
        stores = personal_stores_from_settings(settings, engine)
        assert stores.own_audit_engine is None  # the gateway database's engine, shared
        expected = AuditLog(engine, AUDIT_KEY.encode()).pseudonym("p", "Candidate", "1")
        assert stores.audit.pseudonym("p", "Candidate", "1") == expected
        await stores.aclose()
        separate = Settings(
            audit_key=AUDIT_KEY,
            api_key_pepper=PEPPER,
            audit_database_url=f"sqlite:///{tmp_path}/audit.sqlite3",
        )
        own = personal_stores_from_settings(separate, engine)
        assert own.own_audit_engine is not None
        await own.aclose()
        for broken in (
            Settings(api_key_pepper=PEPPER),
            Settings(audit_key=AUDIT_KEY),
            Settings(audit_key="short", api_key_pepper=PEPPER),
        ):
            with pytest.raises(StoreConfigError, match="HUB_"):
                personal_stores_from_settings(broken, engine)
    finally:
        await engine.dispose()


def test_serve_refuses_to_start_in_production_without_an_audit_key(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from demo.run import partners_file
    from demo.secrets import DEMO_SECRETS

    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HUB_AUDIT_KEY")
    assert main(["serve", "--config", str(partners_file())]) == 2
    assert "HUB_AUDIT_KEY is not set" in capsys.readouterr().err


def test_the_demo_generates_an_audit_key(tmp_path: Path) -> None:
    from demo.identity_provider import DemoIdentityProvider

    first = Settings(**DemoIdentityProvider(tmp_path / "a").settings())
    second = Settings(**DemoIdentityProvider(tmp_path / "b").settings())
    assert first.audit_key is not None and second.audit_key is not None
    assert len(first.audit_key.get_secret_value()) >= 32
    assert first.audit_key.get_secret_value() != second.audit_key.get_secret_value()
