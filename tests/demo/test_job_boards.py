"""The two job boards' catalogue: its sizes, its real codes, and the 600 offers they share."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from demo.data import dataset
from demo.generate import read_labels
from demo.job_boards import (
    ALPES_EMPLOI,
    JOBS_MONTAGNE,
    SHARED_OFFERS,
    catalogue,
    identity,
)
from demo.territory import communes

ROOT = Path(__file__).resolve().parents[2]
HASH_SNIPPET = (
    "import hashlib; from demo.job_boards import catalogue; "
    "print(hashlib.sha256(repr(catalogue()).encode()).hexdigest())"
)


def test_two_fresh_processes_build_the_same_catalogue() -> None:
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", HASH_SNIPPET],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "2")
    ]
    first, second = (run.communicate(timeout=120)[0].strip() for run in runs)
    assert all(run.returncode == 0 for run in runs)
    assert len(first) == 64 and first == second


def test_sizes_and_the_shared_fifth() -> None:
    boards = catalogue()

    assert len(boards.published_on(ALPES_EMPLOI)) == 5_000
    assert len(boards.published_on(JOBS_MONTAGNE)) == 3_000
    assert len(boards.shared()) == SHARED_OFFERS == 600
    assert len(boards.offers) == 5_000 + 3_000 - 600


def test_offers_use_real_communes_rome_codes_and_known_employers() -> None:
    offers = catalogue().offers
    romes = read_labels("rome.csv")
    known = {e.siret for e in dataset().establishments()}

    assert all(o.address.insee_code in communes() for o in offers)
    assert {o.address.departement for o in offers} == {"73", "74"}
    assert all(o.rome_code in romes and o.rome_label == romes[o.rome_code] for o in offers)
    # the company directory (Sirene) can complete every employer
    assert all(o.employer_siret in known for o in offers)


def test_ids_are_unique_per_board_and_alpes_ids_have_six_digits() -> None:
    for board in (ALPES_EMPLOI, JOBS_MONTAGNE):
        ids = [o.publishers[board] for o in catalogue().published_on(board)]
        assert len(set(ids)) == len(ids)
    numbers = [o.publishers[ALPES_EMPLOI] for o in catalogue().published_on(ALPES_EMPLOI)]
    assert all(n.isdigit() and len(n) == 6 for n in numbers)


def test_identity_with_the_instant_is_unique_but_without_it_is_not() -> None:
    """Many offers of one board share employer, ROME, commune and title (an employer hiring
    twice for the same post): they are distinct offers, told apart by their instant."""
    offers = catalogue().offers
    assert len({identity(o) for o in offers}) == len(offers)
    alpes = catalogue().published_on(ALPES_EMPLOI)
    without_instant = Counter(identity(o)[:4] for o in alpes)
    assert len(without_instant) < len(alpes) * 0.6


def test_instants_tie_sometimes() -> None:
    # published to the minute: the boards' tie-breaks (their ids) are exercised
    instants = Counter(o.published_at for o in catalogue().published_on(ALPES_EMPLOI))
    assert max(instants.values()) >= 2


def test_the_catalogue_leaves_the_rest_of_the_demo_unchanged() -> None:
    # drawn from its own random stream: the demo's own offers keep their first keys
    assert not any(ALPES_EMPLOI in o.publishers for o in dataset().offers)
    assert catalogue().offers[0].key == "board-offer-00001"


def test_no_board_offer_is_one_of_the_other_partners_offers() -> None:
    others = {identity(o) for o in dataset().offers}

    assert not any(identity(o) in others for o in catalogue().offers)
