"""The compiled readers give what the reference readers give, on every demo partner's records."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.mapping import MappingError, now_instant
from bench.mapping_speed import demo_samples


async def test_compiled_and_reference_readers_agree_on_the_demo_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = await demo_samples(tmp_path)
    fetched_at = now_instant()
    # The public half: personal records are read on behalf of someone only (bench/mapping_speed).
    assert {entity for _, entity in samples} == {"offer", "training_program", "organisation"}
    compared = 0
    for mapper, raws in samples.values():
        tops = sorted({reader.name[0] for reader in mapper.readers})
        for only in (None, frozenset(tops[::2])):
            for raw in raws:
                try:
                    expected = mapper.map_interpreted(raw, fetched_at, only)
                except MappingError:
                    with pytest.raises(MappingError):
                        mapper.reader(only)(raw, fetched_at)
                    continue
                assert mapper.reader(only)(raw, fetched_at) == expected
                compared += 1
    assert compared > 1000
