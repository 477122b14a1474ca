"""Where a running demo says which assertion key its partners trust, for ``extract --demo``.

``alternance-hub extract --demo`` reuses the simulated partners of a demo already running on
this machine; Hub3E and AKTO there check the hub's signed principal against *that* demo's key,
which lives in the demo's temporary folder. So the demo writes a small note, readable by its
user only, naming its process and that key file, and removes it when it stops; the extractor
signs with the key it names while that process lives. The key never leaves the machine's
temporary folder, and the note holds no secret itself (a path).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

NOTE_NAME = "alternance-hub-demo.json"


def note_path() -> Path:
    return Path(tempfile.gettempdir()) / NOTE_NAME


def announce(assertion_key_file: Path) -> Path:
    """Write the note for this process (its user only); returns where."""
    path = note_path()
    text = json.dumps({"pid": os.getpid(), "assertion_key_file": str(assertion_key_file)})
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as note:
        note.write(text)
    return path


def withdraw() -> None:
    """Remove the note if it is this process's."""
    found = _read()
    if found is not None and found[0] == os.getpid():
        with contextlib.suppress(OSError):
            note_path().unlink()


def running_demo_key() -> Path | None:
    """The assertion key file of the demo running on this machine, if its note says one and
    its process is alive."""
    found = _read()
    if found is None:
        return None
    pid, key = found
    try:
        os.kill(pid, 0)  # signal 0: is it alive (and ours)?
    except OSError:
        return None
    return key if key.is_file() else None


def _read() -> tuple[int, Path] | None:
    try:
        raw = json.loads(note_path().read_text(encoding="utf-8"))
        return int(raw["pid"]), Path(raw["assertion_key_file"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


__all__ = ["announce", "note_path", "running_demo_key", "withdraw"]
