"""The `alternance-hub` command: its sub-commands, its version, and `serve`'s address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import httpx
import orjson
import pytest

from demo.run import partners_file
from demo.secrets import DEMO_SECRETS
from gateway.cli import export_schema, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in DEMO_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HUB_API_KEY_PEPPER", "p" * 32)
    monkeypatch.setenv("HUB_AUDIT_KEY", "a" * 32)
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/hub.sqlite3")
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


def test_version_names_the_installed_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"alternance-hub {version('alternance-hub')}"


def test_serve_help_says_which_address_it_binds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "default 0.0.0.0: every interface" in help_text
    assert "127.0.0.1: this machine only" in help_text and "default 8000" in help_text


def test_serve_refuses_a_busy_port_naming_it(
    demo_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(
            ["serve", "--config", str(partners_file()), "--host", "127.0.0.1", "--port", str(port)]
        )
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_serve_logs_the_address_it_listens_on(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        **DEMO_SECRETS,
        "HUB_CFA_BTP_DSN": f"sqlite+aiosqlite:///{tmp_path}/btp.sqlite3",
        "HUB_CFA_HOTELLERIE_DSN": f"sqlite+aiosqlite:///{tmp_path}/hotellerie.sqlite3",
        "HUB_LOG_LEVEL": "INFO",
        "HUB_API_KEY_PEPPER": "p" * 32,
        "HUB_AUDIT_KEY": "a" * 32,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/hub.sqlite3",
    }
    command = [sys.executable, "-m", "gateway.cli", "serve", "--config", str(partners_file())]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "gateway listening" in line:
                break
        else:
            pytest.fail("serve ended without saying where it listens")
        address = orjson.loads(line)["address"]
        assert address.startswith("http://127.0.0.1:") and not address.endswith(":0")
        assert httpx.get(f"{address}/healthz", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(20)
        if process.stderr:
            process.stderr.close()


def test_demo_without_the_demo_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "demo.run", None)  # as in an install without `demo/`
    assert main(["demo"]) == 2
    assert "demo extra" in capsys.readouterr().err


def test_the_production_install_carries_neither_faker_nor_the_simulated_partners() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("faker")]
    assert any(d.lower().startswith("faker") for d in project["optional-dependencies"]["demo"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY demo" not in dockerfile and "[demo]" not in dockerfile
    assert "'.[test,demo]'" in (ROOT / "scripts" / "install").read_text(encoding="utf-8")


def test_the_gateway_runs_without_the_demo_package_or_faker(tmp_path: Path) -> None:
    # What the image holds: the gateway's packages alone. Nothing on serve's path may need
    # the simulated partners or Faker.
    script = """
import sys
sys.modules["demo"] = sys.modules["faker"] = None
from adapters.partners_file import parse_partners
from gateway.app import create_app
from gateway.cli import main
from gateway.settings import Settings
partners = parse_partners({"partners": {"board": {"kind": "rest", "base_url": "http://127.0.0.1:9",
    "entities": {"offer": {"id": "id", "list": {"path": "/offers"}, "fields": {"title": "t"}}}}}})
create_app(Settings(), partners)
assert main(["export-schema", "-o", sys.argv[1]]) == 0
assert main(["demo"]) == 2
"""
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "schema.graphql")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "demo extra" in run.stderr
