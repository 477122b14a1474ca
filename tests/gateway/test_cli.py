"""The `alternance-hub` command's configuration and schema sub-commands."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from demo.run import partners_file
from demo.secrets import DEMO_SECRETS
from gateway.cli import export_schema, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUB_CFA_BTP_DSN", "sqlite+aiosqlite:///unused.sqlite3")
    monkeypatch.setenv("HUB_CFA_HOTELLERIE_DSN", "sqlite+aiosqlite:///unused.sqlite3")


def test_check_config_accepts_the_demo_file(
    demo_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", str(partners_file())]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_config_points_at_the_faulty_line(
    demo_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = partners_file().read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith('title = "intitule"'))
    lines[index] = 'titel = "intitule"'
    broken = tmp_path / "partners.toml"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["check-config", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:{index + 1}:" in err
    assert "titel" in err


def test_check_config_names_a_missing_secret(
    demo_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HUB_SIRENE_API_KEY")
    assert main(["check-config", str(partners_file())]) == 1
    assert "HUB_SIRENE_API_KEY" in capsys.readouterr().err


def test_config_schema_is_json_schema_of_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config-schema"]) == 0
    schema = orjson.loads(capsys.readouterr().out)
    text = orjson.dumps(schema).decode()
    for kind in ("rest", "sql", "xml_feed", "csv_feed", "graphql"):
        assert f'"{kind}"' in text


def test_export_schema_writes_the_printed_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == export_schema()
    assert target.read_text(encoding="utf-8") == (ROOT / "schema.graphql").read_text(
        encoding="utf-8"
    )


def test_serve_without_a_partners_file_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HUB_PARTNERS_FILE", raising=False)
    assert main(["serve"]) == 2
    assert "HUB_PARTNERS_FILE" in capsys.readouterr().err


def test_serve_refuses_a_faulty_file_with_the_check_config_report(
    demo_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "partners.toml"
    broken.write_text(
        partners_file().read_text(encoding="utf-8").replace('kind = "rest"', 'kind = "soap"', 1),
        encoding="utf-8",
    )
    assert main(["serve", "--config", str(broken)]) == 1
    assert f"{broken}:" in capsys.readouterr().err
