"""The same query always gives the same answer: twice in a process, and in other processes
whose string hashes (and so set and dict orders built from sets) differ."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from observatory import TOTAL, CountTable, Hierarchy, PublishedTable, Unit, count_records, publish
from observatory import record_key as key_of

SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from tests.observatory.test_determinism import as_json, sample_table
from observatory import publish
print(as_json(publish(sample_table())))
"""


def sample_table() -> CountTable:
    """Communes of two départements crossed with ROME domains, with small cells enough that
    secondary suppression has choices to make (ties included)."""
    territory = Hierarchy(
        "territory",
        {
            "73008": "73", "73011": "73", "73065": "73",
            "74010": "74", "74056": "74", "74281": "74",
            "73": "84", "74": "84", "84": TOTAL,
        },
    )  # fmt: skip
    domain = Hierarchy(
        "rome", {"G1602": "G16", "G1603": "G16", "F1201": "F12", "G16": TOTAL, "F12": TOTAL}
    )
    communes = [c for c in territory.leaves]
    codes = [c for c in domain.leaves]
    records = []
    for i in range(600):
        commune = communes[(i * 7 + i // 13) % len(communes)]
        code = codes[(i * 5 + i // 11) % len(codes)]
        if (i % 9 == 0) or commune != "73011":  # one commune with few people
            records.append(((commune, code), key_of(b"determinism", f"candidate:{i}")))
    return count_records(Unit.PERSONS, (territory, domain), records[:540])


def as_json(table: PublishedTable) -> str:
    return json.dumps(
        [[list(cell), p.value, p.suppressed] for cell, p in sorted(table.cells.items())]
    )


def test_the_same_table_twice_gives_the_same_published_table() -> None:
    first, second = publish(sample_table()), publish(sample_table())
    assert first == second
    suppressed = [p for p in first.cells.values() if p.suppressed is not None]
    assert any(p.suppressed == "SECONDARY" for p in suppressed), "the sample exercises it"


def test_other_processes_with_other_hash_seeds_give_the_same_answer() -> None:
    root = os.getcwd()
    expected = as_json(publish(sample_table()))
    for seed in ("1", "2", "12345"):
        done = subprocess.run(  # our own interpreter and a fixed script
            [sys.executable, "-c", SCRIPT.format(root=root)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("\n") == 1, "publishing prints nothing of its own (the solver)"
        assert json.loads(done.stdout) == json.loads(expected), seed
