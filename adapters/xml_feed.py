"""XML feed partners (kind ``xml_feed``), LHEO 2.3 being the reference format.

The document is parsed as it arrives with ``lxml.etree.iterparse`` (over the body's stream,
:mod:`adapters.streams`), safely: no DTD loaded, no
entity expanded (an entity reference stays an inert node and its text is dropped), no network,
no huge-tree mode (lxml's depth and text-size limits hold); each record element is turned into
a raw record and cleared at once, with its already-read siblings, so the tree never grows
beyond one record; raw records are handed to the mapping one by one, as they are read (none is
held for the whole document). Fetching, refresh and the last good copy are :mod:`adapters.feed`'s.

The raw record (a dict), which the mapping's paths read, mirrors the record element; the
rules are in :class:`adapters.feed_config.XmlFeedEntity`. For an LHEO ``<formation>`` exploded
by ``<action>``::

    {"@numero": "F-0001",
     "intitule-formation": "BTS Management commercial opérationnel",
     "certification": {"code-RNCP": "38362"},
     "domaine-formation": {"code-ROME": ["D1406", "D1509"]},          # repeated
     "action": {"@numero": "A-0001-1",                                 # exploded: one action
                "lieu-de-formation": [{"coordonnees": {"adresse": {
                    "codepostal": "73000", "code-INSEE-commune": "73065"}}}],
                "session": [{"periode": {"debut": "20260901", "fin": "20280630"}}],
                "extras": {"extra": {"cle-ministere-educatif": "..."}}}}  # keyed by @info

so that ``action.session[*].periode.debut`` is every session's start and
``action.extras.extra.cle-ministere-educatif`` the catalogue key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from lxml import etree

from adapters.errors import SourceBadResponse
from adapters.feed import FeedKind, Parser
from adapters.feed_config import XmlFeedEntity, XmlFeedPartner

ACCEPT = "application/xml, text/xml;q=0.9"
CONTENT_TYPES = ("application/xml", "text/xml", "+xml")
"""Media types an XML feed may declare (``+xml``: any ``…+xml`` type)."""


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _own_text(element: etree._Element) -> str:
    """The element's text, skipping comments, PIs and (unexpanded) entity references."""
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return "".join(parts).strip()


class RecordBuilder:
    """Turns one record element into its raw record, following the entity's list rules."""

    def __init__(self, spec: XmlFeedEntity) -> None:
        self._repeated = frozenset(spec.repeated)
        self._keyed = dict(spec.keyed)

    def build(self, element: etree._Element) -> dict[str, Any]:
        value = self._convert(element, "")
        if isinstance(value, dict):
            return value
        return {"#text": value}  # a record element without children: its text only

    def _convert(self, element: etree._Element, path: str) -> Any:
        children = [c for c in element if isinstance(c.tag, str)]
        if not children:
            text = _own_text(element)
            if path == "" and element.attrib:
                return {**self._attributes(element), **({"#text": text} if text else {})}
            return text or None
        out = self._attributes(element)
        text = _own_text(element)
        if text:
            out["#text"] = text
        grouped: dict[str, list[Any]] = {}
        keyed: dict[str, dict[str, Any]] = {}
        for child in children:
            name = _local(child.tag)
            child_path = f"{path}.{name}" if path else name
            attribute = self._keyed.get(child_path)
            if attribute is not None:
                key = child.get(attribute)
                if key is not None:
                    keyed.setdefault(name, {})[key] = self._convert(child, child_path)
                continue
            grouped.setdefault(name, []).append(self._convert(child, child_path))
        for name, values in grouped.items():
            child_path = f"{path}.{name}" if path else name
            out[name] = values if (child_path in self._repeated or len(values) > 1) else values[0]
        out.update(keyed)
        return out

    @staticmethod
    def _attributes(element: etree._Element) -> dict[str, Any]:
        return {f"@{_local(str(name))}": value for name, value in element.attrib.items()}


def _explode(raw: dict[str, Any], child: str) -> Iterator[dict[str, Any]]:
    """One raw record per occurrence of ``child``, each carrying the rest of the record."""
    occurrences = raw.get(child)
    if occurrences is None:
        return
    for occurrence in occurrences if isinstance(occurrences, list) else [occurrences]:
        yield {**raw, child: occurrence}


def xml_parser(partner: str, spec: XmlFeedEntity) -> Parser:
    """The parser of one entity's XML document (a binary file -> raw records, as read)."""
    builder = RecordBuilder(spec)
    wanted = f"{{{spec.namespace}}}{spec.record}" if spec.namespace else None

    def parse(body: BinaryIO) -> Iterator[dict[str, Any]]:
        # Every namespace is matched, so that a record element in another one (another format
        # version) is told apart from an empty document in the same single pass.
        events = etree.iterparse(
            body,
            events=("end",),
            tag=f"{{*}}{spec.record}",
            resolve_entities=False,  # an entity stays an inert reference: no billion laughs
            load_dtd=False,  # no external DTD, no external entity, no file read
            no_network=True,
            huge_tree=False,  # keep lxml's limits on depth and text size
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        records = foreign = 0
        try:
            for _, element in events:
                if wanted is not None and element.tag != wanted:
                    foreign += 1
                    _release(element)
                    continue
                records += 1
                raw = builder.build(element)
                _release(element)
                if spec.explode:
                    yield from _explode(raw, spec.explode)
                else:
                    yield raw
        except etree.XMLSyntaxError:
            raise SourceBadResponse(partner, "malformed XML document") from None
        if foreign and not records:
            raise SourceBadResponse(partner, "records in an unexpected XML namespace")

    return parse


def _release(element: etree._Element) -> None:
    """Free a record element and the siblings read before it: memory stays one record deep."""
    element.clear()  # the tail too: lxml's default
    parent = element.getparent()
    if parent is None:
        return
    while element.getprevious() is not None:
        del parent[0]


FEED = FeedKind("xml_feed", XmlFeedPartner, xml_parser, ACCEPT, CONTENT_TYPES)
create = FEED.create
factory = FEED.factory
KIND = FEED.kind

__all__ = ["ACCEPT", "CONTENT_TYPES", "KIND", "RecordBuilder", "create", "factory", "xml_parser"]
