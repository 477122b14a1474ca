"""serve_partners: every partner on real uvicorn servers on loopback, stopped by cancelling."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import httpx
import pytest

from demo import sirene
from demo.data import dataset
from demo.partner_servers import DEFAULT_PORTS, PARTNER_APPS, serve_partners


def test_default_ports_and_factories() -> None:
    mine = {name: DEFAULT_PORTS[name] for name in ("francetravail", "apprentissage", "sirene")}
    assert mine == {"francetravail": 8101, "apprentissage": 8102, "sirene": 8103}
    assert set(DEFAULT_PORTS) == set(PARTNER_APPS)
    assert len(set(DEFAULT_PORTS.values())) == len(DEFAULT_PORTS)


async def test_serves_every_partner_on_loopback_until_cancelled() -> None:
    ready, bound = asyncio.Event(), dict[str, int]()
    ports = dict.fromkeys(("francetravail", "apprentissage", "sirene"), 0)
    task = asyncio.create_task(serve_partners(ports, ready=ready, bound_ports=bound))
    try:
        async with asyncio.timeout(30):
            await ready.wait()
        assert set(bound) == set(ports) and all(bound.values())
        async with httpx.AsyncClient(trust_env=False) as client:
            siret = dataset().employers[0].siret
            answer = await client.get(
                f"http://127.0.0.1:{bound['sirene']}/siret/{siret}",
                headers={sirene.API_KEY_HEADER: sirene.API_KEY},
            )
            assert answer.status_code == 200
            refused = await client.get(f"http://127.0.0.1:{bound['apprentissage']}/job/v1/search")
            assert refused.status_code == 401
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", bound["sirene"])) != 0


async def test_a_busy_port_names_the_partner() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match="sirene"):
            await serve_partners({"sirene": port})


async def test_an_unknown_partner_is_refused() -> None:
    with pytest.raises(ValueError, match="nowhere"):
        await serve_partners({"nowhere": 0})


async def test_the_personal_partners_check_the_assertion_when_given_a_jwks() -> None:
    from demo import hub3e
    from demo.partner_servers import PERSONAL_PARTNERS
    from tests.demo.assertions import Signer

    assert {"hub3e", "akto"} == PERSONAL_PARTNERS
    signer = Signer()
    ready, bound = asyncio.Event(), dict[str, int]()
    ports = dict.fromkeys(("hub3e", "akto", "sirene"), 0)
    task = asyncio.create_task(
        serve_partners(ports, ready=ready, bound_ports=bound, assertion_jwks=signer.jwks)
    )
    try:
        async with asyncio.timeout(30):
            await ready.wait()
        key = {hub3e.API_KEY_HEADER: hub3e.API_KEY}
        async with httpx.AsyncClient(trust_env=False) as client:
            hub3e_url = f"http://127.0.0.1:{bound['hub3e']}/api/v2/candidats"
            akto_url = f"http://127.0.0.1:{bound['akto']}/api/v1/contrats"
            assert (await client.get(hub3e_url, headers=key)).status_code == 401
            assert (await client.get(akto_url)).status_code == 401
            centre = signer.headers("hub3e", "TRAINING_CENTRE", "0732727T")
            assert (await client.get(hub3e_url, headers={**key, **centre})).status_code == 200
            exports_audience = signer.headers("akto", "OPCO", "AKTO")  # the CSV block's name
            assert (await client.get(akto_url, headers=exports_audience)).status_code == 401
            opco = signer.headers("akto-contrats", "OPCO", "AKTO")
            answer = await client.get(akto_url, headers=opco)
            assert answer.status_code == 200 and answer.json()["contrats"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_the_partner_process_hands_the_jwks_to_its_partners() -> None:
    from demo.partner_servers import PartnerProcess
    from tests.demo.assertions import Signer

    signer = Signer()
    partners = PartnerProcess({"akto": 0}, assertion_jwks=signer.jwks)
    try:
        bound = partners.start(timeout_s=60)
        url = f"http://127.0.0.1:{bound['akto']}/api/v1/contrats"
        with httpx.Client(trust_env=False) as client:
            assert client.get(url).status_code == 401
            assert client.get(
                url, headers=signer.headers("akto-contrats", "OPCO", "AKTO")
            ).is_success
    finally:
        partners.stop()


def test_a_block_served_by_another_partners_server_follows_its_port() -> None:
    from demo.run import demo_partners

    partners = demo_partners({"akto": 18_106, "hub3e": 18_105}).partners
    urls = {name: getattr(partners[name], "base_url", None) for name in partners}
    assert urls["akto-contrats"] == urls["akto"] == "http://127.0.0.1:18106"
    assert urls["hub3e"] == "http://127.0.0.1:18105"
