"""`alternance-hub db upgrade` and `clients add|list|revoke` on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main

PEPPER = "a-test-pepper-of-at-least-32-characters"


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "var" / "hub.sqlite3"
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("HUB_API_KEY_PEPPER", PEPPER)
    return path


def test_db_upgrade_makes_the_database(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert database.is_file()
    assert "revision 0004_audit_detail" in capsys.readouterr().out


def test_the_key_is_shown_once_and_never_listed(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["clients", "add", "--name", "akto portal", "--role", "OPCO", "--organisation", "akto"]
        )
        == 0
    )
    added = capsys.readouterr().out
    key = next(word for word in added.split() if word.startswith("ahk_"))
    assert main(["clients", "list"]) == 0
    listed = capsys.readouterr().out
    assert "akto portal" in listed and "AKTO" in listed and "OPCO" in listed
    secret = key.split("_", 2)[2]
    assert key not in listed and secret not in listed and key.split("_")[1] not in listed
    assert secret.encode() not in database.read_bytes(), "only the keyed hash is stored"


def test_revoke_marks_the_client_and_refuses_twice(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clients", "add", "--name", "observatory", "--role", "OBSERVATORY"]) == 0
    client_id = capsys.readouterr().out.split()[1]
    assert main(["clients", "revoke", client_id]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["clients", "revoke", client_id]) == 1
    assert main(["clients", "list"]) == 0
    (row,) = capsys.readouterr().out.splitlines()[1:]
    assert row.split()[0] == client_id and row.rstrip()[-1] != "-"  # a revocation date


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "ROOT"], "unknown role"),
        (["--role", "EMPLOYER", "--organisation", "75448271900294"], "must be a SIRET"),
        (["--role", "TRAINING_CENTRE"], "needs an organisation"),
        (["--role", "OPCO", "--organisation", "NOPE"], "an OPCO code"),
        (["--role", "CANDIDATE"], "needs a subject"),
    ],
)
def test_a_client_breaking_a_rule_is_refused(
    database: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["clients", "add", "--name", "x", *arguments]) == 1
    error = capsys.readouterr().err
    assert message in error and "75448271900294" not in error
    assert not database.exists() or main(["clients", "list"]) == 0


def test_adding_a_client_needs_the_pepper(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HUB_API_KEY_PEPPER")
    assert main(["clients", "add", "--name", "x", "--role", "ADMIN"]) == 1
    assert "HUB_API_KEY_PEPPER" in capsys.readouterr().err


def test_serve_refuses_to_start_in_production_without_a_pepper(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from demo.run import partners_file
    from demo.secrets import DEMO_SECRETS

    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HUB_API_KEY_PEPPER")
    assert main(["serve", "--config", str(partners_file())]) == 2
    assert "HUB_API_KEY_PEPPER is not set" in capsys.readouterr().err
