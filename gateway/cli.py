"""The ``alternance-hub`` command.

alternance-hub demo [--port 8000] [--config mine.toml] [--production]   the gateway + every
                                                     simulated partner (needs the demo extra)
alternance-hub serve --config partners.toml          the gateway alone, production settings
alternance-hub check-config FILE [--probe]           validate a partners file (exit 0/1)
alternance-hub config-schema                         JSON Schema of the partners file
alternance-hub export-schema                         the GraphQL SDL (schema.graphql)
alternance-hub extract --config partners.toml [--period 2026-01..2026-06] --out extracts/
                                                     the observatory's whole grid as files
                                                     (--demo: the simulated partners)
alternance-hub db upgrade                            migrate the gateway database (HUB_DATABASE_URL)
alternance-hub clients add --name N --role R [--organisation O] [--subject S]
                                                     a new API client; prints its key once
alternance-hub clients list | clients revoke ID      the API clients (never their keys)
alternance-hub audit purge [--older-than-days N]     remove audit events past their retention
alternance-hub audit export [--since ISO] [--until ISO] [--output FILE]
                                                     the audit trail as JSON lines
alternance-hub --version
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn

DISTRIBUTION = "alternance-hub"
DEMO_EXTRA_HINT = (
    "install the demo extra, pip install -e '.[demo]' in a checkout (scripts/install does)"
)
# A container's port must be reachable from outside it; `--host 127.0.0.1` keeps a gateway
# run directly on a machine to that machine.
SERVE_HOST = "0.0.0.0"  # noqa: S104
PORT = 8000

log = logging.getLogger("alternance_hub")


def version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a checkout never installed
        return "unknown (not installed)"


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host`` (IPv4 or IPv6) and ``port`` (0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048)


def export_schema() -> str:
    from resolvers.schema import build_schema

    return build_schema(development=True).as_str() + "\n"


def _serve(args: argparse.Namespace) -> int:
    from adapters.errors import ConfigError
    from adapters.partners_file import load_partners
    from gateway.app import create_app
    from gateway.authentication import IdentityConfigError, check_production_identity
    from gateway.http_protocol import PROTOCOL
    from gateway.logs import configure, uvicorn_logging
    from gateway.personal_stores import StoreConfigError, check_production_stores
    from gateway.runtime import tune_gc
    from gateway.settings import Settings

    settings = Settings()
    path = args.config or settings.partners_file
    if path is None:
        print("serve: give --config FILE or set HUB_PARTNERS_FILE", file=sys.stderr)
        return 2
    try:
        partners = load_partners(path)
    except (ConfigError, LookupError):
        # The same report as check-config: every problem, with its line and a hint.
        from adapters.config_check import check_file, format_problems

        print(format_problems(check_file(path)), file=sys.stderr)
        return 1
    try:
        if not settings.development:
            check_production_identity(settings)
            check_production_stores(settings)
        if _migrate(settings) != 0:
            return 1
        app = create_app(settings, partners)
    except (IdentityConfigError, StoreConfigError) as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    except (ConfigError, LookupError):
        from adapters.config_check import check_file, format_problems

        print(format_problems(check_file(path)), file=sys.stderr)
        return 1
    try:
        # Bound here, before uvicorn starts: a busy port is one clear line, and the address
        # logged below is one the gateway really holds.
        sock = listen(args.host, args.port)
    except OSError as error:
        print(f"serve: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    address = f"http://{shown_host}:{sock.getsockname()[1]}"
    options: dict[str, Any] = {**uvicorn_logging(settings.log_level), "http": PROTOCOL}
    configure(settings.log_level)
    if args.workers > 1:
        # Each worker process builds its own app from the environment (its own cache tier,
        # partner clients and breakers); share the cache between them with HUB_CACHE_URL=redis://.
        # uvicorn binds the port again in its supervisor, so ours is released first.
        sock.close()
        os.environ["HUB_PARTNERS_FILE"] = str(Path(path).resolve())
        log.info("gateway listening", extra={"address": address, "workers": args.workers})
        uvicorn.run(
            "gateway.app:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            **options,
        )
        return 0
    tune_gc()
    log.info("gateway listening", extra={"address": address, "workers": 1})
    try:
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shut down gracefully on Ctrl-C, then raised the signal again for whoever
        # runs it: the conventional exit status, without a traceback.
        return 130
    return 0


def _migrate(settings: Any) -> int:
    """Bring the gateway database to the code's schema (before workers start: once)."""
    from gateway.clients_cli import db_upgrade

    return db_upgrade(settings)


def _db(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    return _migrate(Settings())


def _clients(args: argparse.Namespace) -> int:
    from gateway import clients_cli
    from gateway.settings import Settings

    settings = Settings()
    if args.action == "add":
        return clients_cli.add_client(
            settings, args.name, args.role, args.organisation, args.subject
        )
    if args.action == "list":
        return clients_cli.print_clients(settings)
    return clients_cli.revoke(settings, args.client_id)


def _audit(args: argparse.Namespace) -> int:
    from gateway import audit_cli
    from gateway.settings import Settings

    settings = Settings()
    if args.action == "purge":
        return audit_cli.purge(settings, args.older_than_days)
    return audit_cli.export(settings, args.since, args.until, args.output)


def _demo(args: argparse.Namespace) -> int:
    try:
        from demo.run import run_demo
    except ModuleNotFoundError as missing:
        # The production install carries neither the simulated partners nor Faker.
        print(
            f"demo: this install has no demo (no module {missing.name}): {DEMO_EXTRA_HINT}",
            file=sys.stderr,
        )
        return 2
    return run_demo(
        port=args.port,
        host=args.host,
        latency_ms=args.latency_ms,
        partner_port_base=args.partner_port_base,
        config=args.config,
        production=args.production,
        credentials_out=args.credentials_out,
    )


def _check_config(args: argparse.Namespace) -> int:
    from adapters.config_check import check_file, format_problems

    problems = check_file(args.file, probe=args.probe)
    if problems:
        print(format_problems(problems), file=sys.stderr)
        return 1
    print(f"{args.file}: OK")
    return 0


def _config_schema(args: argparse.Namespace) -> int:
    import orjson

    from adapters.config_check import partners_json_schema

    sys.stdout.write(orjson.dumps(partners_json_schema(), option=orjson.OPT_INDENT_2).decode())
    sys.stdout.write("\n")
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    sdl = export_schema()
    if args.output:
        Path(args.output).write_text(sdl, encoding="utf-8")
    else:
        sys.stdout.write(sdl)
    return 0


def _extract(args: argparse.Namespace) -> int:
    from gateway.extract_cli import run

    return run(args)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="alternance-hub", description=__doc__.split("\n\n")[0])
    root.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = root.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="run the gateway and every simulated partner (development settings)",
        description="The gateway and every simulated partner on this machine. SIGTERM or "
        "Ctrl-C stops them all and removes the demo's temporary folder.",
    )
    demo.add_argument("--host", default="127.0.0.1", help="gateway address (default 127.0.0.1)")
    demo.add_argument(
        "--port", type=int, default=PORT, help=f"gateway port (default {PORT}; 0 = any free port)"
    )
    demo.add_argument("--latency-ms", type=float, default=0.0, help="added to each partner answer")
    demo.add_argument(
        "--partner-port-base",
        type=int,
        default=None,
        help="first port of the simulated partners (default 8101, they use 8101-8109; "
        "0 = any free ports); a port in use is an error",
    )
    demo.add_argument(
        "--config",
        type=Path,
        help="your own partners file, whose partners join the demo's (ids must differ)",
    )
    demo.add_argument(
        "--production",
        action="store_true",
        help="production settings: no GraphiQL, no introspection, no suggestions, no GET",
    )
    demo.add_argument(
        "--credentials-out",
        type=Path,
        help="write the demo's credentials, one per role, to this JSON file "
        '({"<ROLE>": {"token", "organisation", "subject"}})',
    )
    demo.set_defaults(run=_demo)

    serve = commands.add_parser(
        "serve",
        help="run the gateway with a partners file (production settings)",
        description="The gateway alone, in front of the partners of a partners file. It logs "
        "the address it listens on.",
    )
    serve.add_argument("--config", type=Path, help="partners TOML (default HUB_PARTNERS_FILE)")
    serve.add_argument(
        "--host",
        default=SERVE_HOST,
        help=f"address to bind (default {SERVE_HOST}: every interface, as a container needs; "
        "127.0.0.1: this machine only)",
    )
    serve.add_argument("--port", type=int, default=PORT, help=f"port to bind (default {PORT})")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (share a Redis cache between them)"
    )
    serve.set_defaults(run=_serve)

    check = commands.add_parser("check-config", help="validate a partners file")
    check.add_argument("file", type=Path)
    check.add_argument("--probe", action="store_true", help="also call each partner")
    check.set_defaults(run=_check_config)

    schema = commands.add_parser("config-schema", help="print the JSON Schema of partners files")
    schema.set_defaults(run=_config_schema)

    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", "-o", type=Path)
    export.set_defaults(run=_export_schema)

    extract = commands.add_parser(
        "extract",
        help="the observatory's whole grid for a period: CSV, Parquet and metadata files",
        description="Every indicator by every table of the grid, published as the indicators "
        "query publishes them (disclosure control applied), into cells.csv, cells.parquet and "
        "metadata.json. Resumable: run the same command again after an interruption.",
    )
    extract.add_argument("--config", type=Path, help="partners TOML (default HUB_PARTNERS_FILE)")
    extract.add_argument(
        "--demo",
        action="store_true",
        help="extract from the simulated partners (started unless a demo runs them)",
    )
    extract.add_argument(
        "--period",
        help="whole months FROM..TO, e.g. 2026-01..2026-06 (default: the last twelve months)",
    )
    extract.add_argument("--out", type=Path, required=True, help="the folder of the files")
    extract.add_argument(
        "--as",
        dest="as_subject",
        default="extract",
        help="the OBSERVATORY principal's subject the audit trail names (default extract)",
    )
    extract.add_argument(
        "--restart",
        action="store_true",
        help="discard an unfinished extract in --out and start over",
    )
    extract.set_defaults(run=_extract)

    db = commands.add_parser("db", help="the gateway database (HUB_DATABASE_URL)")
    db_actions = db.add_subparsers(dest="action", required=True)
    db_actions.add_parser("upgrade", help="apply every migration not applied yet")
    db.set_defaults(run=_db)

    clients = commands.add_parser("clients", help="API clients: add, list, revoke")
    client_actions = clients.add_subparsers(dest="action", required=True)
    add = client_actions.add_parser("add", help="a new client; its key is printed once")
    add.add_argument("--name", required=True, help="what the client is (an app, a partner)")
    add.add_argument(
        "--role",
        required=True,
        help="CANDIDATE, TRAINING_CENTRE, EMPLOYER, OPCO, OBSERVATORY or ADMIN",
    )
    add.add_argument(
        "--organisation",
        help="UAI or SIRET (TRAINING_CENTRE), SIRET (EMPLOYER), OPCO code (OPCO)",
    )
    add.add_argument("--subject", help="who it acts as (CANDIDATE: the candidate id)")
    client_actions.add_parser("list", help="every client, never its key")
    revoke = client_actions.add_parser("revoke", help="refuse a client's key from now on")
    revoke.add_argument("client_id", metavar="ID")
    clients.set_defaults(run=_clients)

    audit = commands.add_parser(
        "audit", help="the audit trail (HUB_AUDIT_DATABASE_URL): purge, export"
    )
    audit_actions = audit.add_subparsers(dest="action", required=True)
    purge = audit_actions.add_parser("purge", help="remove the events older than the retention")
    purge.add_argument(
        "--older-than-days",
        type=int,
        help="remove events older than this many days (default HUB_AUDIT_RETENTION_DAYS, 365)",
    )
    export_audit = audit_actions.add_parser("export", help="the events as JSON lines")
    export_audit.add_argument("--since", help="from this ISO 8601 date or instant (UTC if bare)")
    export_audit.add_argument("--until", help="up to this date or instant, excluded")
    export_audit.add_argument("--output", "-o", type=Path, help="a file (default stdout)")
    audit.set_defaults(run=_audit)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
