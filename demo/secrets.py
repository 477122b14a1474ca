"""The demo partners' credentials: fake values the simulated partners accept.

The demo command sets each variable only when the environment does not already have it
(``os.environ.setdefault``), so a real deployment's secrets are never overridden.
"""

from __future__ import annotations

from demo import academie, apprentissage, francetravail, hub3e, jobs_montagne, record_keys, sirene

DEMO_SECRETS: dict[str, str] = {
    "HUB_FRANCETRAVAIL_CLIENT_ID": francetravail.CLIENT_ID,
    "HUB_FRANCETRAVAIL_CLIENT_SECRET": francetravail.CLIENT_SECRET,
    "HUB_APPRENTISSAGE_API_KEY": apprentissage.API_KEY,
    "HUB_SIRENE_API_KEY": sirene.API_KEY,
    "HUB_HUB3E_API_KEY": hub3e.API_KEY,
    "HUB_ACADEMIE_TOKEN": academie.TOKEN,
    "HUB_JOBS_MONTAGNE_TOKEN": jobs_montagne.TOKEN,
    # The observatory's record keys: the demo's owners store keys made with it (demo.record_keys).
    record_keys.SECRET_ENV: record_keys.DEMO_SECRET,
}
