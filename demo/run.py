"""``alternance-hub demo``: every simulated partner in a child process, the gateway in this one.

Partners run in their own process so that their CPU does not count against the gateway's (the
benchmark measures the gateway). The demo is a good citizen of the machine it runs on:

- it says what it does, step by step, while it starts;
- a port in use (the gateway's or a partner's) is an error naming the port, never a silent
  reuse of whatever listens there;
- SIGTERM and SIGINT, at any stage, stop the gateway, then every simulated partner, then
  remove the demo's temporary folder (the child also stops by itself if this process dies);
- it names the PostgreSQL schema it (re)creates, when a PostgreSQL answers;
- it runs its own identity provider (:mod:`demo.identity_provider`) and prints one credential
  per role, which ``--credentials-out FILE`` also writes as JSON.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import tomllib
from collections.abc import Generator
from importlib import resources
from pathlib import Path
from types import FrameType

import uvicorn

from adapters.partners_file import PartnersFile, parse_partners
from demo import running
from demo.secrets import DEMO_SECRETS

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0

EXAMPLES = """
Open {url} in a browser: GraphiQL (served by the gateway itself, offline), with an example
query preloaded. Or POST plain JSON, e.g.:

  curl -s {url} -H 'content-type: application/json' \\
    -d '{{"query": "{{ partners(probe: true) {{ id kind health }} }}"}}'

More queries to paste into GraphiQL:

  {{ trainingPrograms(filter: {{departements: ["74"]}}, first: 5) {{
      edges {{ node {{ title sessions {{ start capacity }} responsible {{ name uai }} }} }} }} }}
  {{ organisation(siret: "12345678901234") {{ name }} }}   # a typed BAD_USER_INPUT error
  {{ commune(inseeCode: "73065") {{ name population departement {{ academie {{ name }} }} }} }}

Ctrl-C (or SIGTERM) stops the gateway and every simulated partner.
"""

CREDENTIALS = """
Credentials of the demo's identity provider, one per role (JWTs, valid {hours} h). Send one as
`Authorization: Bearer <token>` — in GraphiQL, paste into the Headers panel:
{{"Authorization": "Bearer <token>"}} — and ask `{{ me {{ role organisation subject }} }}`.
"""

OBSERVATORY_PAGE = """
The observatory's dashboard of Savoie and Haute-Savoie: {url} (charts, a map, filters and a CSV
of the cells shown; offline). Anonymous, it shows offers, positions and places; paste the
OBSERVATORY token below into its "Accès" form for the indicators that count young people.
"""

PRODUCTION = """
Production settings (Settings(development=False), as `alternance-hub serve` runs): no GraphiQL,
no introspection, no field suggestions, no GET. POST JSON, e.g.:

  curl -s {url} -H 'content-type: application/json' \\
    -d '{{"query": "{{ partners {{ id kind }} }}"}}'

Ctrl-C (or SIGTERM) stops the gateway and every simulated partner.
"""


class DemoError(Exception):
    """A reason the demo cannot start, said to the user as it is."""


class _Stopped(Exception):
    """SIGTERM or SIGINT while the demo starts: unwinds to the clean-up."""


class _Shutdown:
    """The demo's handler of SIGTERM and SIGINT, installed for its whole life.

    The handler only records the signal: an exception raised from a signal handler can land
    anywhere, even in a garbage-collection callback that swallows it. The start-up checks
    the record between its steps (:meth:`check`), the wait for the partners polls it, and the
    gateway's own handler takes over while it serves (see :class:`_Gateway`).
    """

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signal = self.signal or signum

    def requested(self) -> bool:
        return self.signal is not None

    def check(self) -> None:
        if self.signal is not None:
            raise _Stopped

    @contextlib.contextmanager
    def installed(self) -> Generator[None, None, None]:
        previous = {sig: signal.signal(sig, self) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class _Gateway(uvicorn.Server):
    """uvicorn, minus one habit: after a graceful shutdown on a signal it raises the signal
    again, which would end the process before the demo stops its partners."""

    def __init__(self, config: uvicorn.Config, shutdown: _Shutdown) -> None:
        super().__init__(config)
        self.stops = shutdown

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stops.signal = self.stops.signal or sig
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        if self.stops.signal is not None:  # it came between the last check and this handler
            self.should_exit = True
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def partners_file() -> Path:
    return Path(str(resources.files("demo") / "partners.toml"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_partners(ports: dict[str, int]) -> PartnersFile:
    """The demo's partners file, with each simulated HTTP partner at its actual port."""
    from demo.partner_servers import SERVED_BY

    data = tomllib.loads(partners_file().read_text(encoding="utf-8"))
    for name, block in data["partners"].items():
        port = ports.get(SERVED_BY.get(name, name))
        if port is not None and "base_url" in block:
            block["base_url"] = f"http://127.0.0.1:{port}"
    return parse_partners(data, str(partners_file()))


def _say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def _listen(host: str, port: int) -> socket.socket:
    """The gateway's socket, bound and listening before anything slow starts."""
    from gateway.cli import listen

    try:
        sock = listen(host, port)
    except OSError as error:
        raise DemoError(
            f"the gateway cannot listen on {host}:{port}: {error.strerror or error} "
            "(another demo or server? --port chooses another port)"
        ) from None
    return sock


def _partner_ports(partner_port_base: int | None) -> dict[str, int]:
    from demo.partner_servers import DEFAULT_PORTS

    if partner_port_base is None:
        return dict(DEFAULT_PORTS)
    if partner_port_base == 0:
        return dict.fromkeys(DEFAULT_PORTS, 0)
    first = min(DEFAULT_PORTS.values())
    return {name: partner_port_base + port - first for name, port in DEFAULT_PORTS.items()}


def _check_user_file(path: Path) -> list[str]:
    """The partner ids of the user's file, once ``check-config`` finds nothing wrong in it."""
    from adapters.config_check import check_file, format_problems

    problems = check_file(path)
    if problems:
        raise DemoError(
            f"{path} is not a valid partners file (`alternance-hub check-config {path}`):\n"
            + format_problems(problems)
        )
    demo_ids = set(tomllib.loads(partners_file().read_text(encoding="utf-8"))["partners"])
    ids = list(tomllib.loads(path.read_text(encoding="utf-8")).get("partners", {}))
    taken = sorted(demo_ids.intersection(ids))
    if taken:
        raise DemoError(
            f"{path}: partner ids the demo already uses: {', '.join(taken)}; give yours other ids"
        )
    return ids


def _with_user_partners(demo: PartnersFile, path: Path) -> PartnersFile:
    from adapters.partners_file import load_partners

    mine = load_partners(path)
    return PartnersFile({**demo.partners, **mine.partners}, f"{demo.source} + {path}")


def _describe_databases(dsns: dict[str, str]) -> None:
    from sqlalchemy.engine import make_url

    from demo.cfa_erp import DSN_ENV, HOTELLERIE, HOTELLERIE_SCHEMA

    for partner, variable in DSN_ENV.items():
        url = make_url(os.environ.get(variable) or dsns[variable])
        if url.get_backend_name() == "sqlite":
            _say(f"{partner}: SQLite file {url.database}")
        elif partner == HOTELLERIE:
            where = f"database {url.database} at {url.host}:{url.port or 5432}"
            _say(
                f"{partner}: PostgreSQL schema {HOTELLERIE_SCHEMA} in {where} "
                "(dropped and recreated at each start; HUB_DEMO_POSTGRES_URL= uses SQLite)"
            )
        else:
            _say(f"{partner}: {url.get_backend_name()} database {url.database}")


def _migrate(database_url: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from store.migrate import upgrade_url

    try:
        upgrade_url(database_url)
    except (SQLAlchemyError, OSError) as error:
        raise DemoError(f"the gateway database did not migrate: {type(error).__name__}") from None


def _write_credentials(path: Path, credentials: dict[str, dict[str, str]]) -> None:
    import orjson

    try:
        # Tokens are credentials: the file is its owner's only.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(orjson.dumps(credentials, option=orjson.OPT_INDENT_2))
    except OSError as error:
        raise DemoError(f"cannot write the credentials to {path}: {error.strerror}") from None


def run_demo(
    port: int = 8000,
    host: str = "127.0.0.1",
    latency_ms: float = 0.0,
    partner_port_base: int | None = None,
    config: Path | None = None,
    production: bool = False,
    credentials_out: Path | None = None,
) -> int:
    """Run the demo until SIGTERM or SIGINT; 0 after a clean stop, 1 when it cannot start.

    ``port`` 0 and ``partner_port_base`` 0 pick free ports; ``config`` adds the partners of a
    user's own partners file to the demo's; ``production`` runs the gateway in production
    settings; ``credentials_out`` receives the credentials as JSON.
    """
    demo = _Demo(port, host, latency_ms, partner_port_base, config, production, credentials_out)
    with demo.shutdown.installed():
        try:
            demo.run()
        except DemoError as error:
            print(f"demo: {error}", file=sys.stderr, flush=True)
            return 1
        except _Stopped:
            pass
        finally:
            demo.clean_up()
    return 0


class _Demo:
    """One run of the demo. Every resource is recorded here the moment it exists, so that
    :meth:`clean_up` releases whatever a signal or an error left behind."""

    def __init__(
        self,
        port: int,
        host: str,
        latency_ms: float,
        partner_port_base: int | None,
        config: Path | None,
        production: bool,
        credentials_out: Path | None = None,
    ) -> None:
        from demo.partner_servers import PartnerProcess

        self.port, self.host, self.config, self.production = port, host, config, production
        self.credentials_out = credentials_out
        self.shutdown = _Shutdown()
        self.began = time.monotonic()
        self.gateway_socket: socket.socket | None = None
        self.workdir: Path | None = None
        self.partners = PartnerProcess(_partner_ports(partner_port_base), latency_ms)

    def _step(self, message: str) -> None:
        _say(f"{message} ({time.monotonic() - self.began:.1f} s)")

    def run(self) -> None:
        from demo.cfa_erp import prepare_demo_databases
        from demo.identity_provider import TOKEN_LIFETIME_S, DemoIdentityProvider
        from demo.partner_servers import PartnerStartError
        from gateway.app import create_app
        from gateway.http_protocol import PROTOCOL
        from gateway.logs import configure, uvicorn_logging
        from gateway.runtime import tune_gc
        from gateway.settings import Settings
        from identity.assertions import AssertionSigner

        for name, value in DEMO_SECRETS.items():
            os.environ.setdefault(name, value)
        configure("WARNING")
        self.gateway_socket = _listen(self.host, self.port)
        port = int(self.gateway_socket.getsockname()[1])
        url = f"http://{self.host}:{port}/graphql"
        mine = _check_user_file(self.config) if self.config is not None else []
        self.shutdown.check()
        if mine:
            _say(f"your partners, from {self.config}: {', '.join(mine)}")

        self.workdir = Path(tempfile.mkdtemp(prefix="alternance-hub-demo-"))
        _say(f"temporary folder {self.workdir} (removed on exit)")
        _say("generating the demo data and seeding the two training centres' databases...")
        dsns = prepare_demo_databases(self.workdir)
        for name, dsn in dsns.items():
            os.environ.setdefault(name, dsn)
        _describe_databases(dsns)
        self._step("databases ready")
        self.shutdown.check()

        # The identity provider first: the partners holding personal data check the hub's
        # signed principal against the public half of the assertion key it generates.
        provider = DemoIdentityProvider(self.workdir)
        self.partners.assertion_jwks = AssertionSigner.from_pem_file(
            provider.assertion_key_file
        ).jwks()
        running.announce(provider.assertion_key_file)  # for `extract --demo` (demo/running.py)
        _say(f"starting {len(self.partners.ports)} simulated partners on 127.0.0.1...")
        try:
            bound = self.partners.start(STARTUP_TIMEOUT_S, give_up=self.shutdown.requested)
        except PartnerStartError as error:
            raise DemoError(
                f"{error} (another demo still running? --partner-port-base moves the partners, "
                "0 = any free ports)"
            ) from None
        self.shutdown.check()
        self._step("partners: " + ", ".join(f"{n} :{p}" for n, p in bound.items()))

        partners = demo_partners(bound)
        if self.config is not None:
            partners = _with_user_partners(partners, self.config)
        settings = Settings(
            development=not self.production, observatory_warm_up=True, **provider.settings()
        )
        _migrate(settings.database_url)
        credentials = provider.credentials()
        if self.credentials_out is not None:
            _write_credentials(self.credentials_out, credentials)
            _say(f"credentials written to {self.credentials_out}")
        app = create_app(settings, partners)
        self._step(f"ready at {url}")
        print((PRODUCTION if self.production else EXAMPLES).format(url=url), flush=True)
        observatory = url.removesuffix("/graphql") + "/observatory"
        print(OBSERVATORY_PAGE.format(url=observatory), flush=True)
        print(CREDENTIALS.format(hours=TOKEN_LIFETIME_S // 3600), flush=True)
        for role, credential in credentials.items():
            who = " ".join(v for v in (credential["organisation"], credential["subject"]) if v)
            print(f"  {role} ({who}):\n    {credential['token']}", flush=True)
        print(flush=True)
        tune_gc()
        config = uvicorn.Config(app, http=PROTOCOL, **uvicorn_logging("WARNING"))
        _Gateway(config, self.shutdown).run(sockets=[self.gateway_socket])

    def clean_up(self) -> None:
        running.withdraw()
        self.partners.stop(STOP_TIMEOUT_S)
        if self.gateway_socket is not None:
            self.gateway_socket.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.shutdown.signal is not None:
            name = signal.Signals(self.shutdown.signal).name
            _say(f"stopped by {name}: every simulated partner stopped, temporary folder removed")
