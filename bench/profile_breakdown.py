"""Where one request's time goes, from a py-spy ``--format raw`` profile of bench.profile_request.

    .venv/bin/python -m bench.profile_breakdown q1.txt

Only the samples of the measured loop count. Each sample is charged to the innermost frame that
belongs to a known part (walking out from the leaf, so a stdlib helper is charged to whoever
called it): parsing, validation, graphql-core's execution, Strawberry's per-field wrappers,
Strawberry's request path (extensions, view), serialisation, our own code, the simulated
partners, the HTTP/ASGI plumbing and the event loop.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

LOOP = "run (bench/profile_request.py:57)"
_FRAME = re.compile(r"(?P<func>[^;(]+) \((?P<file>[^:;]+):\d+\)")

# (part, test on "file" or "func file"), innermost first wins; order breaks ties in one frame.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("serialisation (orjson, process_result)", ("encode_json ", "process_result ")),
    ("parsing", ("graphql/language/",)),
    ("validation", ("graphql/validation/", "graphql/utilities/")),
    ("graphql-core execution", ("graphql/execution/", "graphql/pyutils/", "graphql/type/")),
    ("strawberry per-field wrappers", ("strawberry/schema/schema_converter.py",)),
    ("strawberry request (extensions, view)", ("strawberry/",)),
    ("our code: resolvers", ("resolvers/",)),
    (
        "our code: source registry, merge, cache",
        ("gateway/sources.py", "gateway/merge.py", "gateway/cache.py", "gateway/freshness.py"),
    ),
    ("our code: response cache", ("gateway/response_cache.py",)),
    ("our code: adapters, mapping", ("adapters/",)),
    ("our code: HTTP edge (view, limits, deadline)", ("gateway/",)),
    ("simulated partners", ("demo/",)),
    ("HTTP/ASGI plumbing (httpx, starlette)", ("httpx/", "starlette/", "h11/", "anyio/")),
    ("event loop, other", ("",)),
]


def _part(stack: str) -> str:
    frames = [(m["func"].strip(), m["file"]) for m in _FRAME.finditer(stack)]
    for func, file in reversed(frames):
        if file.startswith("bench/"):
            break
        for part, tests in PARTS[:-1]:
            if any(t in f"{func} {file}" if t.endswith(" ") else t in file for t in tests):
                return part
    return PARTS[-1][0]


def breakdown(path: Path) -> Counter[str]:
    parts: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if LOOP in stack:
            parts[_part(stack)] += int(count)
    return parts


def main() -> None:
    cli = argparse.ArgumentParser(prog="python -m bench.profile_breakdown")
    cli.add_argument("profiles", nargs="+", type=Path)
    for path in cli.parse_args().profiles:
        parts = breakdown(path)
        total = sum(parts.values())
        print(f"{path.name}: {total} samples in the loop")
        for part, count in parts.most_common():
            print(f"  {count / total:6.1%}  {part}")


if __name__ == "__main__":
    main()
