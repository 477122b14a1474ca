"""The personal tables of the two CFA ERPs: candidates, applications, their history, follow-up.

Both ERPs share one shape, in French (the ERP vendor is the same; the centres differ in their
data, not in their columns)::

    candidats (id, ine, nom, prenom, date_naissance, courriel, telephone, commune_insee,
               diplome_le_plus_eleve, romes_vises, cle_ons)
    candidatures (id, candidat_id, formation_id, session, offre_id, siret_employeur, canal,
                  statut, motif, cree_le, modifie_le, reference_client, cle_ons)
    historique_candidature (id, candidature_id, statut, le, role_acteur, motif)
    suivis (id, candidat_id, nature, date, auteur_org, auteur_role, resume, visibilite,
            reference_client, cle_ons)

``statut`` holds the ERP's labels (:data:`demo.lifecycle.ERP_STATUS`), ``role_acteur`` and
``auteur_role`` its role words (``cfa``, ``employeur``...), ``nature`` and ``visibilite`` its
follow-up words. ``formation_id`` is the centre's own programme id; ``offre_id`` a Hub3E
mission id (``M-00042``) when the proposal went through Hub3E. ``romes_vises`` is separated
as each ERP separates its programmes' ROME codes (``;`` at cfa-btp, ``,`` at
cfa-hotellerie). ``reference_client`` (NULL when seeded, unique) is the reference a hub sends
when it creates an application or a follow-up event, by which it finds it again. ``cle_ons``
is the record's ONS record key (:mod:`demo.record_keys`), summed by the observatory's counts;
a row a hub writes has none (NULL: its cell's key then lacks it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
)

from demo.lifecycle import ERP_STATUS, FOLLOW_UP_NATURE, FOLLOW_UP_VISIBILITY, ROLE_LABELS
from demo.personal import PersonalDataset
from demo.record_keys import demo_record_key

ROME_SEPARATOR = {"cfa-btp": ";", "cfa-hotellerie": ","}


def add_personal_tables(metadata: MetaData) -> dict[str, Table]:
    """Declare the four personal tables on ``metadata``; returns them by name."""
    candidats = Table(
        "candidats",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("ine", String(11), unique=True),
        Column("nom", String(100), nullable=False),
        Column("prenom", String(100), nullable=False),
        Column("date_naissance", Date, nullable=False),
        Column("courriel", String(200), nullable=False),
        Column("telephone", String(20)),
        Column("commune_insee", String(5)),
        Column("diplome_le_plus_eleve", String(40)),
        Column("romes_vises", String(120)),
        Column("cle_ons", BigInteger),
    )
    candidatures = Table(
        "candidatures",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("candidat_id", Integer, ForeignKey("candidats.id"), nullable=False, index=True),
        Column("formation_id", String(12), nullable=False, index=True),
        Column("session", Date, nullable=False),
        Column("offre_id", String(20)),
        Column("siret_employeur", String(14), index=True),
        Column("canal", String(40), nullable=False),
        Column("statut", String(30), nullable=False, index=True),
        Column("motif", String(200)),
        Column("cree_le", DateTime(timezone=True), nullable=False),
        Column("modifie_le", DateTime(timezone=True), nullable=False),
        Column("reference_client", String(100), unique=True),
        Column("cle_ons", BigInteger),
    )
    historique = Table(
        "historique_candidature",
        metadata,
        Column("id", Integer, primary_key=True),
        Column(
            "candidature_id",
            Integer,
            ForeignKey("candidatures.id"),
            nullable=False,
            index=True,
        ),
        Column("statut", String(30), nullable=False),
        Column("le", DateTime(timezone=True), nullable=False),
        Column("role_acteur", String(20), nullable=False),
        Column("motif", String(200)),
    )
    suivis = Table(
        "suivis",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("candidat_id", Integer, ForeignKey("candidats.id"), nullable=False, index=True),
        Column("nature", String(30), nullable=False),
        Column("date", Date, nullable=False),
        Column("auteur_org", String(14), nullable=False),
        Column("auteur_role", String(20), nullable=False),
        Column("resume", String(500), nullable=False),
        Column("visibilite", String(20), nullable=False),
        Column("reference_client", String(100), unique=True),
        Column("cle_ons", BigInteger),
    )
    return {
        "candidats": candidats,
        "candidatures": candidatures,
        "historique_candidature": historique,
        "suivis": suivis,
    }


def personal_rows(
    erp: str, tables: dict[str, Table], people: PersonalDataset
) -> dict[Table, list[dict[str, Any]]]:
    """The rows of ``erp``'s personal tables, from the demo's personal dataset."""
    separator = ROME_SEPARATOR[erp]
    candidats: list[dict[str, Any]] = []
    for candidate in people.candidates[erp]:
        person = people.persons[candidate.person_key]
        candidats.append(
            {
                "id": candidate.id,
                "ine": person.ine,
                "nom": person.last_name,
                "prenom": person.first_name,
                "date_naissance": person.birth_date,
                "courriel": person.email,
                "telephone": person.phone,
                "commune_insee": person.commune_insee,
                "diplome_le_plus_eleve": person.highest_diploma,
                "romes_vises": separator.join(dict.fromkeys(candidate.target_romes)),
                "cle_ons": demo_record_key(erp, "candidate", candidate.id),
            }
        )
    candidatures: list[dict[str, Any]] = []
    historique: list[dict[str, Any]] = []
    for application in people.applications[erp]:
        candidatures.append(
            {
                "id": application.id,
                "candidat_id": application.candidate_id,
                "formation_id": application.program.publishers[erp],
                "session": application.session,
                "offre_id": application.mission.publishers["hub3e"]
                if application.mission
                else None,
                "siret_employeur": application.employer_siret,
                "canal": application.channel,
                "statut": ERP_STATUS[application.status],
                "motif": application.reason,
                "cree_le": application.created_at,
                "modifie_le": application.updated_at,
                "reference_client": None,
                "cle_ons": demo_record_key(erp, "application", application.id),
            }
        )
        for step in application.history:
            historique.append(
                {
                    "id": len(historique) + 1,
                    "candidature_id": application.id,
                    "statut": ERP_STATUS[step.status],
                    "le": step.at,
                    "role_acteur": ROLE_LABELS[step.actor_role],
                    "motif": step.reason,
                }
            )
    suivis = [
        {
            "id": event.id,
            "candidat_id": event.candidate_id,
            "nature": FOLLOW_UP_NATURE[event.kind],
            "date": event.day,
            "auteur_org": event.author_org,
            "auteur_role": ROLE_LABELS[event.author_role],
            "resume": event.summary,
            "visibilite": FOLLOW_UP_VISIBILITY[event.visibility],
            "reference_client": None,
            "cle_ons": demo_record_key(erp, "follow_up", event.id),
        }
        for event in people.follow_ups[erp]
    ]
    return {
        tables["candidats"]: candidats,
        tables["candidatures"]: candidatures,
        tables["historique_candidature"]: historique,
        tables["suivis"]: suivis,
    }


__all__ = ["ROME_SEPARATOR", "add_personal_tables", "personal_rows"]
