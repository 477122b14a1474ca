"""``alternance-hub extract``: the command around :func:`gateway.extract.run_extract`.

It builds the gateway as ``serve`` does (:func:`gateway.app.create_app`: the registry of the
partners file, the cache, the indicator engine, the audit trail, from the ``HUB_*`` settings)
and reads every table through it as an **OBSERVATORY principal** of its own, ``--as`` naming
it (default ``extract``). The extractor is an operator's tool, run where the gateway runs and
with its settings: the partners that check the principal receive the gateway's signed
assertion for it, signed with ``HUB_ASSERTION_KEY_FILE`` like any request's, and no API key or
token is needed — whoever holds the gateway's settings can already act as any principal. The
audit trail says who ran which extract (:func:`audit_extract`).

``--demo`` runs it against the simulated partners instead (:mod:`gateway.extract_demo`).

Exit codes: 0 every table extracted whole; 3 the files are written but incomplete (a table not
computed, an owner that failed, no Parquet): ``metadata.json`` says what, and the same command
retries the tables not computed; 2 a bad argument or an unfinished extract of something else in
``--out``; 1 the partners file, the settings or the output folder are unusable; 130 interrupted
(the finished tables are kept: the same command finishes the extract).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

from starlette.applications import Starlette

from gateway.cli import DISTRIBUTION, version
from gateway.extract import (
    ExtractError,
    ExtractIdentity,
    ExtractMismatch,
    ExtractOutcome,
    GridTable,
    ReadTable,
    rules_of,
    run_extract,
    whole_grid,
)
from gateway.extract_progress import Progress
from gateway.observatory import read_table
from identity.principal import InvalidPrincipal, Principal, Role, new_principal
from observatory.indicators import GRID, INDICATORS
from sources.cache import HubCache
from sources.indicators import (
    IndicatorError,
    IndicatorRequest,
    Indicators,
    IndicatorTable,
    MonthRange,
)
from sources.partner_metrics import PARTNER_CALL_SECONDS
from store.audit import Action, AuditEntry, AuditUnavailable

__all__ = [
    "CommandError",
    "audit_extract",
    "close_app",
    "describe",
    "extract_detail",
    "extract_with_app",
    "partner_calls",
    "run",
]

DETAIL_MAX = 200  # store.audit's bound on a detail
EXIT_OK, EXIT_UNUSABLE, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

log = logging.getLogger("alternance_hub.extract")


def partner_calls() -> int:
    """Partner calls ended in this process so far (every outcome), from the call histogram."""
    total = 0.0
    for metric in PARTNER_CALL_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                total += sample.value
    return int(total)


def describe(app: Starlette) -> dict[str, Any]:
    """What metadata.json says besides the tables: the hub, the indicators, the rules."""
    indicators = app.state.indicators
    return {
        "hub": {"name": DISTRIBUTION, "version": version()},
        "indicators": [
            {
                "code": str(i.code),
                "label": i.label,
                "kind": str(i.kind),
                "unit": i.unit_label,
                "description": i.description,
                "counts_people": i.counts_people,
                "dimensions": sorted(d.value for d in i.dimensions),
            }
            for i in INDICATORS.values()
        ],
        "grid": [[d.value for d in grouping] for grouping in GRID],
        "disclosure": rules_of(indicators.rules),
    }


def extract_detail(grid: Sequence[GridTable], months: MonthRange) -> str:
    """What the audit trail keeps of an extract: its grid and period, never a value."""
    codes = list(dict.fromkeys(str(t.code) for t in grid))
    whole = set(grid) == set(whole_grid())
    what = "whole" if whole else ",".join(codes)
    detail = f"extract grid={what} tables={len(grid)} period={months} departements=pilot"
    if len(detail) > DETAIL_MAX:  # the trail's bound: say how many, not which
        detail = f"extract grid={len(codes)} indicators tables={len(grid)} period={months}"
    return detail


async def audit_extract(
    app: Starlette, principal: Principal, grid: Sequence[GridTable], months: MonthRange
) -> None:
    """The extract's audit event, written before any table is read: who (the trail's role,
    subject reference and client), a COUNT of ``indicator`` as operation ``extract``, and
    which grid and period in its detail (:func:`extract_detail`); never a value. Fails
    closed: a grid counting young people is not extracted without its event. Each run writes
    one, a resumed run too (it reads the tables it computes)."""
    if not any(INDICATORS[t.code].counts_people for t in grid):
        return  # offers and places: anybody's, as in the indicators query
    stores = app.state.stores
    if stores is None:
        raise AuditUnavailable(
            "the extract counts young people and the gateway has no audit trail: set "
            "HUB_AUDIT_KEY and HUB_API_KEY_PEPPER (README, 'The gateway database')"
        )
    entry = AuditEntry(Action.COUNT, "indicator", (), detail=extract_detail(grid, months))
    await stores.audit.record_all(principal, operation="extract", entries=[entry])


def _reading_state(app: Starlette) -> Any:
    """What :func:`read_table` reads: the gateway's state, or, when the gateway runs without a
    cache (``HUB_CACHE_ENABLED=false``), the same with an engine holding an in-process cache
    of the extract's own: the tables of a measure are then still the margins of one count,
    published once, not one count per table (a count per table, and a shared cell counted apart in
    each table it is in)."""
    indicators: Indicators = app.state.indicators
    if indicators.cache is not None:
        return app.state
    own = Indicators(
        indicators.registry, HubCache(), key_secret=indicators.key_secret, rules=indicators.rules
    )
    return SimpleNamespace(
        indicators=own, identity=app.state.identity, stores=app.state.stores, own_cache=own.cache
    )


def _reader(state: Any, principal: Principal) -> ReadTable:
    async def read(request: IndicatorRequest) -> IndicatorTable:
        # As the page reads a table: acting for the principal, each table of a personal
        # indicator its own COUNT audit event (gateway.observatory.read_table).
        return await read_table(state, principal, request, operation="extract")

    return read


async def extract_with_app(
    app: Starlette,
    principal: Principal,
    months: MonthRange,
    out: Path,
    partners_file: bytes,
    *,
    stderr: TextIO,
    grid: Sequence[GridTable] | None = None,
    restart: bool = False,
    after_table: Callable[[GridTable], None] | None = None,
) -> ExtractOutcome:
    """The extract over a built gateway app (the command's, a test's, the benchmark's)."""
    tables = tuple(grid) if grid is not None else whole_grid()
    indicators = app.state.indicators
    identity = ExtractIdentity.of(
        months, partners_file, indicators.rules, indicators.key_secret, tables, version()
    )
    await audit_extract(app, principal, tables, months)
    state = _reading_state(app)
    try:
        return await run_extract(
            _reader(state, principal),
            months,
            out,
            identity,
            tables,
            progress=Progress.on(stderr, len(tables)),
            metadata=lambda: describe(app),
            calls=partner_calls,
            restart=restart,
            after_table=after_table,
        )
    finally:
        if state is not app.state:
            await state.own_cache.aclose()


async def close_app(app: Starlette) -> None:
    await app.state.registry.aclose()
    await app.state.cache.aclose()
    if app.state.stores is not None:
        await app.state.stores.aclose()
    await app.state.identity.aclose()


# -- the command ---------------------------------------------------------------------------------


def _fail(code: int, message: str) -> int:
    print(f"extract: {message}", file=sys.stderr)
    return code


def _months(text: str | None) -> MonthRange:
    return MonthRange.last_twelve(date.today()) if text is None else MonthRange.parse(text)


@contextlib.contextmanager
def _configured(args: argparse.Namespace) -> Iterator[tuple[Starlette, bytes]]:
    """The gateway app of ``--config`` (or HUB_PARTNERS_FILE) and the file's bytes."""
    from sqlalchemy.exc import SQLAlchemyError

    from adapters.errors import ConfigError
    from adapters.partners_file import load_partners
    from gateway.app import create_app
    from gateway.authentication import IdentityConfigError
    from gateway.personal_stores import StoreConfigError
    from gateway.settings import Settings
    from store.migrate import upgrade_url

    settings = Settings()
    path = args.config or settings.partners_file
    if path is None:
        raise CommandError("give --config FILE, --demo, or set HUB_PARTNERS_FILE", EXIT_USAGE)
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None
    try:
        partners = load_partners(path)
    except (ConfigError, LookupError):
        from adapters.config_check import check_file, format_problems

        raise CommandError(format_problems(check_file(path))) from None
    try:
        # The audit trail is in the gateway database: it is brought to the code's schema first.
        upgrade_url(settings.database_url, settings.database_schema)
    except (SQLAlchemyError, OSError) as error:  # its type, never its URL
        raise CommandError(
            f"the gateway database did not migrate: {type(error).__name__}"
        ) from None
    try:
        app = create_app(settings, partners)
    except (IdentityConfigError, StoreConfigError) as error:
        raise CommandError(str(error)) from None
    except (ConfigError, LookupError):  # e.g. a credential's variable is not set
        from adapters.config_check import check_file, format_problems

        raise CommandError(format_problems(check_file(path))) from None
    yield app, content


class CommandError(Exception):
    """A reason the command cannot run, said as it is, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_UNUSABLE) -> None:
        super().__init__(message)
        self.code = code


async def _run_interruptible(coroutine: Coroutine[Any, Any, ExtractOutcome]) -> ExtractOutcome:
    """SIGTERM ends the run as Ctrl-C does: the table being computed is dropped, the
    finished ones are kept."""
    task = asyncio.ensure_future(coroutine)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await task
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGTERM)


def _report(outcome: ExtractOutcome, out: Path) -> int:
    done = outcome.computed + outcome.skipped
    print(
        f"extract: {done}/{outcome.tables} tables ({outcome.skipped} from the earlier run) "
        f"in {out}: " + ", ".join(p.name for p in outcome.files),
        file=sys.stderr,
    )
    if outcome.failed:
        print(
            f"extract: {len(outcome.failed)} tables not computed (metadata.json says why); "
            "the same command retries them",
            file=sys.stderr,
        )
    if outcome.partial:
        print(
            f"extract: {len(outcome.partial)} tables are partial: an owner could not be counted "
            "(metadata.json, sources.failures)",
            file=sys.stderr,
        )
    if outcome.parquet_missing is not None:
        print(f"extract: no cells.parquet: {outcome.parquet_missing}", file=sys.stderr)
    return EXIT_OK if outcome.complete else EXIT_INCOMPLETE


def run(args: argparse.Namespace) -> int:
    """The ``extract`` subcommand (gateway.cli)."""
    from gateway.logs import configure

    configure("WARNING")
    if args.demo and args.config is not None:
        return _fail(EXIT_USAGE, "give --config or --demo, not both")
    try:
        months = _months(args.period)
    except IndicatorError as error:
        return _fail(EXIT_USAGE, f"--period: {error} (e.g. 2026-01..2026-06)")
    try:
        principal = new_principal(Role.OBSERVATORY, subject=args.as_subject)
    except InvalidPrincipal as error:
        return _fail(EXIT_USAGE, f"--as: {error}")
    out: Path = args.out
    try:
        if args.demo:
            from gateway.extract_demo import demo_gateway

            gateway = demo_gateway(sys.stderr)
        else:
            gateway = _configured(args)
        with gateway as (app, partners_file):

            async def main() -> ExtractOutcome:
                try:
                    return await _run_interruptible(
                        extract_with_app(
                            app,
                            principal,
                            months,
                            out,
                            partners_file,
                            stderr=sys.stderr,
                            restart=args.restart,
                        )
                    )
                finally:
                    await close_app(app)

            outcome = asyncio.run(main())
    except CommandError as error:
        return _fail(error.code, str(error))
    except ExtractMismatch as error:
        return _fail(EXIT_USAGE, str(error))
    except (ExtractError, AuditUnavailable) as error:
        return _fail(EXIT_UNUSABLE, str(error))
    except OSError as error:
        return _fail(EXIT_UNUSABLE, f"cannot write {out}: {error.strerror}")
    except (KeyboardInterrupt, asyncio.CancelledError):
        return _fail(
            EXIT_INTERRUPTED,
            f"interrupted: the finished tables are kept in {out}; the same command finishes "
            "the extract",
        )
    return _report(outcome, out)
