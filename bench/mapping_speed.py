"""µs per record of the mappings, on the demo partners' own records.

    .venv/bin/python -m bench.mapping_speed [--repeat 5]

Every demo partner (REST, GraphQL, feeds, SQL on SQLite) is read in-process once, the raw
records each mapper receives are kept, then each (partner, entity) mapping is timed three ways:
``before`` (the field-by-field mapper of commit 39fa7ca, read from git when it is there), the
reference readers of today (``interpreted``) and the compiled reader (``compiled``). The best of
``--repeat`` runs is reported; on a busy machine the figures are indicative only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from adapters.mapping import Mapper, now_instant
from adapters.partners_file import load_partners
from adapters.registry import build_adapter
from adapters.syntax import DATA_CLASSES
from adapters.types import DataClass, ListQuery
from demo.cfa_erp import seed_demo_databases
from demo.partner_servers import PARTNER_APPS
from demo.run import partners_file
from demo.secrets import DEMO_SECRETS

Samples = dict[tuple[str, str], tuple[Mapper, list[Any]]]
BEFORE = "39fa7ca"


@contextlib.contextmanager
def _captured(samples: Samples) -> Iterator[None]:
    """Keep every raw record a Mapper is handed while the context lasts."""
    original_many, original_one = Mapper.map_many, Mapper.map

    def keep(mapper: Mapper, raws: list[Any]) -> None:
        samples.setdefault((mapper.partner, mapper.entity), (mapper, []))[1].extend(raws)

    def map_many(self: Mapper, raws: Any, fetched_at: str, only: Any = None) -> Any:
        raws = list(raws)
        keep(self, raws)
        return original_many(self, raws, fetched_at, only)

    def map_one(self: Mapper, raw: Any, fetched_at: str, only: Any = None) -> Any:
        keep(self, [raw])
        return original_one(self, raw, fetched_at, only)

    Mapper.map_many = map_many  # type: ignore[method-assign]
    Mapper.map = map_one  # type: ignore[method-assign]
    try:
        yield
    finally:
        Mapper.map_many = original_many  # type: ignore[method-assign]
        Mapper.map = original_one  # type: ignore[method-assign]


async def demo_samples(data_dir: Path) -> Samples:
    """The raw records of every listable public entity of every demo partner, with their
    mapper."""
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)
    for name, value in (await seed_demo_databases(data_dir, postgres_dsn=None)).items():
        os.environ[name] = value
    partners = load_partners(partners_file()).partners
    samples: Samples = {}
    with _captured(samples):
        for partner, config in partners.items():
            factory = PARTNER_APPS.get(partner)
            transport = httpx.ASGITransport(app=factory()) if factory else None
            adapter = build_adapter(partner, config, transport)
            try:
                for entity in sorted(adapter.entities()):
                    # Personal records are read on behalf of someone only (adapters.acting):
                    # the mapping speed is measured on the public half.
                    if adapter.listable(entity) and DATA_CLASSES[entity] is not DataClass.PERSONAL:
                        await adapter.list(ListQuery(entity, {}, limit=config.max_items))
            finally:
                await adapter.aclose()
    # Each record once: a walk may hand the same page to a mapper twice.
    return {key: (mapper, _distinct(raws)) for key, (mapper, raws) in samples.items()}


def _distinct(raws: list[Any]) -> list[Any]:
    seen: set[int] = set()
    return [raw for raw in raws if not (id(raw) in seen or seen.add(id(raw)))]  # type: ignore[func-returns-value]


def _before_module() -> ModuleType | None:
    """The mapping module as it was before compilation, from git (None outside a checkout)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE}:adapters/mapping.py"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    spec = importlib.util.spec_from_loader("mapping_before", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mapping_before"] = module
    exec(compile(source, "mapping_before.py", "exec"), module.__dict__)  # noqa: S102
    return module


def _best_us(run: Callable[[], object], records: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best / records * 1e6


def _time_one(
    mapper: Mapper, raws: list[Any], before: ModuleType | None, repeat: int
) -> tuple[float | None, float, float]:
    fetched_at = now_instant()
    old: float | None = None
    if before is not None:
        with contextlib.suppress(ValueError):  # a mapping the old mapper cannot read
            old_mapper = before.Mapper(mapper.partner, mapper.entity, mapper.mapping)
            old = _best_us(lambda: old_mapper.map_many(raws, fetched_at), len(raws), repeat)

    def interpreted() -> None:
        for raw in raws:
            with contextlib.suppress(ValueError):
                mapper.map_interpreted(raw, fetched_at)

    def compiled() -> None:
        mapper.map_many(raws, fetched_at)

    compiled()  # compile before timing
    return old, _best_us(interpreted, len(raws), repeat), _best_us(compiled, len(raws), repeat)


def measure(samples: Samples, repeat: int) -> list[tuple[str, int, float | None, float, float]]:
    before = _before_module()
    return [
        (f"{partner}.{entity}", len(raws), *_time_one(mapper, raws, before, repeat))
        for (partner, entity), (mapper, raws) in sorted(samples.items())
        if raws
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data_dir:
        samples = asyncio.run(demo_samples(Path(data_dir)))
    rows = measure(samples, args.repeat)
    print("| mapping | records | before µs/rec | interpreted µs/rec | compiled µs/rec |")
    print("|---|--:|--:|--:|--:|")
    total = sum(n for _, n, *_ in rows)
    for name, count, old, interpreted, compiled in rows:
        shown = f"{old:.1f}" if old is not None else "-"
        print(f"| {name} | {count} | {shown} | {interpreted:.1f} | {compiled:.1f} |")

    def weighted(column: int) -> float:
        return sum(row[1] * float(row[column] or 0) for row in rows) / total

    averages = " | ".join(f"{weighted(column):.1f}" for column in (2, 3, 4))
    print(f"| all (weighted) | {total} | {averages} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
