"""The ``alternance-hub`` command.

alternance-hub demo [--port 8000] [--latency-ms 0]   gateway + every simulated partner
alternance-hub serve --config partners.toml          the gateway alone, production settings
alternance-hub check-config FILE [--probe]           validate a partners file (exit 0/1)
alternance-hub config-schema                         JSON Schema of the partners file
alternance-hub export-schema                         the GraphQL SDL (schema.graphql)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn


def export_schema() -> str:
    from resolvers.schema import build_schema

    return build_schema(development=True).as_str() + "\n"


def _serve(args: argparse.Namespace) -> int:
    from adapters.errors import ConfigError
    from adapters.partners_file import load_partners
    from gateway.app import create_app
    from gateway.logs import configure, uvicorn_logging
    from gateway.runtime import tune_gc
    from gateway.settings import Settings

    settings = Settings()
    path = args.config or settings.partners_file
    if path is None:
        print("serve: give --config FILE or set HUB_PARTNERS_FILE", file=sys.stderr)
        return 2
    try:
        partners = load_partners(path)
        app = create_app(settings, partners)
    except (ConfigError, LookupError):
        # The same report as check-config: every problem, with its line and a hint.
        from adapters.config_check import check_file, format_problems

        print(format_problems(check_file(path)), file=sys.stderr)
        return 1
    options = {"host": args.host, "port": args.port, **uvicorn_logging(settings.log_level)}
    if args.workers > 1:
        # Each worker process builds its own app from the environment (its own cache tier,
        # partner clients and breakers); share the cache between them with HUB_CACHE_URL=redis://.
        os.environ["HUB_PARTNERS_FILE"] = str(Path(path).resolve())
        uvicorn.run(
            "gateway.app:app_from_environment", factory=True, workers=args.workers, **options
        )
        return 0
    configure(settings.log_level)
    tune_gc()
    uvicorn.run(app, **options)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from demo.run import run_demo

    return run_demo(
        port=args.port,
        host=args.host,
        latency_ms=args.latency_ms,
        partner_port_base=args.partner_port_base,
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="alternance-hub", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run the gateway and every simulated partner")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--latency-ms", type=float, default=0.0, help="added to each partner answer")
    demo.add_argument(
        "--partner-port-base",
        type=int,
        default=None,
        help="first port of the simulated partners (default 8101; 0 = any free ports)",
    )
    demo.set_defaults(run=_demo)

    serve = commands.add_parser("serve", help="run the gateway with a partners file")
    serve.add_argument("--config", type=Path, help="partners TOML (default HUB_PARTNERS_FILE)")
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a container's port must be reachable
    serve.add_argument("--port", type=int, default=8000)
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
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
