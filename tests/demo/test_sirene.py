"""The simulated Sirene: API key header, one SIRET, batches of at most 100."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from demo import sirene
from demo.data import dataset
from tests.demo.conftest import ClientFor


@pytest.fixture
def app() -> Starlette:
    return sirene.create_app()


@pytest.fixture
def client(app: Starlette, client_for: ClientFor) -> httpx.AsyncClient:
    return client_for(app, headers={sirene.API_KEY_HEADER: sirene.API_KEY})


async def test_a_wrong_key_is_refused(app: Starlette, client_for: ClientFor) -> None:
    siret = dataset().employers[0].siret
    assert (await client_for(app).get(f"/siret/{siret}")).status_code == 401
    wrong = client_for(app, headers={sirene.API_KEY_HEADER: "nope"})
    assert (await wrong.post("/siret", json={"sirets": [siret]})).status_code == 401


async def test_one_establishment(client: httpx.AsyncClient) -> None:
    employer = next(e for e in dataset().employers if e.trade_name and "é" in e.address.city)
    body = (await client.get(f"/siret/{employer.siret}")).json()["etablissement"]
    assert body["siret"] == employer.siret and body["siren"] == employer.siren
    assert body["activitePrincipaleEtablissement"] == employer.naf_code
    address = body["adresseEtablissement"]
    assert address["codeCommuneEtablissement"] == employer.address.insee_code
    assert address["libelleCommuneEtablissement"].isupper()
    assert "É" not in address["libelleCommuneEtablissement"]
    assert address["numeroVoieEtablissement"] == employer.address.label.split()[0]
    assert body["etatAdministratifEtablissement"] == ("A" if employer.active else "F")


async def test_not_found_and_malformed(client: httpx.AsyncClient) -> None:
    assert (await client.get("/siret/73282932000074")).status_code == 404
    malformed = await client.get("/siret/7328293200007")
    assert malformed.status_code == 400
    assert malformed.json()["header"]["statut"] == 400


async def test_training_centres_are_in_the_directory(client: httpx.AsyncClient) -> None:
    sirets = [c.siret for c in dataset().centres]
    found = (await client.post("/siret", json={"sirets": sirets})).json()["etablissements"]
    assert {e["siret"] for e in found} == set(sirets)


async def test_batch_returns_only_the_found_ones(app: Starlette, client: httpx.AsyncClient) -> None:
    known = [e.siret for e in dataset().employers[:99]]
    answer = await client.post("/siret", json={"sirets": [*known, "73282932000074"]})
    assert answer.status_code == 200
    assert [e["siret"] for e in answer.json()["etablissements"]] == known
    assert app.state.calls["siret_batch"] == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"sirets": []}',
        b'{"sirets": "73282932000074"}',
        b'{"sirets": [73282932000074]}',
        b'{"siret": ["73282932000074"]}',
        b'{"sirets": ["7328293200007x"]}',
        b"not json",
        b"[]",
    ],
)
async def test_bad_batches_are_400(client: httpx.AsyncClient, body: bytes) -> None:
    answer = await client.post("/siret", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400


async def test_more_than_100_is_400(client: httpx.AsyncClient) -> None:
    sirets = [e.siret for e in dataset().employers[:101]]
    assert (await client.post("/siret", json={"sirets": sirets})).status_code == 400
