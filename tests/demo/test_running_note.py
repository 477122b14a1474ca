"""The note a running demo leaves for ``extract --demo`` (demo/running.py): it names the
assertion key of a live demo only, is readable by its user only, and goes with the demo."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from demo import running


@pytest.fixture(autouse=True)
def own_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(running.tempfile, "gettempdir", lambda: str(tmp_path))


def test_a_live_demo_names_its_key_and_withdraws_it(tmp_path: Path) -> None:
    key = tmp_path / "hub-assertion-key.pem"
    key.write_text("a key")
    note = running.announce(key)
    assert stat.S_IMODE(note.stat().st_mode) == 0o600
    assert running.running_demo_key() == key
    running.withdraw()
    assert not note.exists() and running.running_demo_key() is None


def test_a_note_of_a_demo_that_is_gone_names_nothing(tmp_path: Path) -> None:
    key = tmp_path / "hub-assertion-key.pem"
    key.write_text("a key")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    running.note_path().write_text(
        f'{{"pid": {gone.stdout.strip()}, "assertion_key_file": "{key}"}}'
    )
    assert running.running_demo_key() is None
    running.withdraw()  # not this process's note: left alone
    assert running.note_path().exists()


def test_a_broken_note_or_a_missing_key_names_nothing(tmp_path: Path) -> None:
    running.note_path().write_text("not json")
    assert running.running_demo_key() is None
    running.note_path().write_text(
        f'{{"pid": {os.getpid()}, "assertion_key_file": "{tmp_path / "nowhere.pem"}"}}'
    )
    assert running.running_demo_key() is None
