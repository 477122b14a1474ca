"""What makes an entity mapping unusable, found before any record is read.

:class:`adapters.mapping.Mapper` refuses a mapping with any of these problems, and
``check-config`` (through :func:`adapters.partners_file.check_partners`) reports every one of
them at its line first, so that ``serve`` never meets one it was not warned about.

Each problem is ``(location, message, hint)``, the location dotted under the entity block:
``fields.sessions.each.capacity``, ``fields.status.values.OUVERTE``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from adapters.config import EntityMapping, FieldMappingType, FieldSpec
from adapters.syntax import ENTITIES, FieldType

Problem = tuple[str, str, str]

PATH_HINT = "dotted keys, `[0]` to index a list, `[*]` to map over it: `a.b[*].c`"
_PATH_SYNTAX = re.compile(r"(?:[^.\[\]]+|\[(?:\d+|\*)\])(?:\.[^.\[\]]+|\[(?:\d+|\*)\])*")
_CATALOGUE_HINT = "see the field catalogue in adapters/syntax.py (`config-schema` lists them)"


def valid_path(path: str) -> bool:
    """Whether ``path`` is a well-formed path into a partner record."""
    return _PATH_SYNTAX.fullmatch(path) is not None


def object_lists(entity: str) -> list[str]:
    """The fields of ``entity`` that are lists of objects (``sessions``, ``occupations``)."""
    return [
        name
        for name, kind in ENTITIES.get(entity, {}).items()
        if kind.scalar == "object" and kind.is_list
    ]


def mapping_problems(entity: str, mapping: EntityMapping) -> list[Problem]:
    """Every problem of ``mapping`` against the common syntax; empty when it can be used."""
    known = ENTITIES.get(entity, {})
    problems: list[Problem] = []
    if not valid_path(mapping.id):
        problems.append(("id", f"{mapping.id!r} is not a valid path", PATH_HINT))
    lists = object_lists(entity)
    for name, spec in mapping.fields.items():
        where = f"fields.{name}"
        head = next((field for field in lists if name.startswith(f"{field}.")), None)
        if head is not None:
            problems.append(_into_a_list(head, name, spec))
        elif name not in known:
            problems.append((where, "not a field of the common syntax", _CATALOGUE_HINT))
        else:
            problems.extend(_field_problems(entity, name, known[name], spec, where))
    for number, rule in enumerate(mapping.identity or ()):
        where = f"identity[{number}]"
        if not rule:
            problems.append((where, "an empty rule", "name the fields two twins share"))
        for name in rule:
            if name not in known:
                problems.append(
                    (where, f"{name!r} is not a field of the common syntax", _CATALOGUE_HINT)
                )
            elif name not in mapping.fields:
                problems.append(
                    (where, f"{name!r} is not mapped by this partner", "map it in `fields`")
                )
    return problems


def _into_a_list(head: str, name: str, spec: FieldMappingType) -> Problem:
    """``"sessions.capacity" = "capacite"``: a list of objects is mapped with ``each``."""
    sub = name[len(head) + 1 :]
    path = spec if isinstance(spec, str) else (spec.path or "...")
    return (
        f"fields.{name}",
        f"{head} is a list of objects: a dotted name cannot reach inside it",
        f'map it with `each`: {head} = {{ each = {{ {sub} = "{path}" }} }} builds one '
        f"element from the record itself; add `path` to map over a list in the record",
    )


def _field_problems(
    entity: str, name: str, kind: FieldType, spec: FieldMappingType, where: str
) -> Iterator[Problem]:
    path_at = where if isinstance(spec, str) else f"{where}.path"
    if isinstance(spec, str):
        spec = FieldSpec(path=spec)
    if spec.path is not None and not valid_path(spec.path):
        yield path_at, f"{spec.path!r} is not a valid path", PATH_HINT
    is_object_list = kind.scalar == "object"
    if is_object_list and not spec.each:
        yield (
            where,
            f"{name} is a list of objects: it needs an `each` table",
            f'{name} = {{ path = "...", each = {{ ... }} }}, or without `path` to build one '
            "element from the record itself",
        )
    if spec.each and not is_object_list:
        yield (
            f"{where}.each",
            f"`each` maps a list of objects; {name} is not one",
            f"lists of objects of {entity}: {', '.join(object_lists(entity)) or 'none'}",
        )
    if kind.choices and spec.values:
        for key, value in spec.values.items():
            if value not in kind.choices:
                yield (
                    f"{where}.values.{key}",
                    f"{str(value)!r} is not an allowed value of {name}",
                    f"one of: {', '.join(sorted(kind.choices))}",
                )
    if spec.each and is_object_list:
        for sub, sub_spec in spec.each.items():
            full = f"{name}.{sub}"
            sub_kind = ENTITIES[entity].get(full)
            if sub_kind is None:
                yield f"{where}.each.{sub}", "not a field of the common syntax", _CATALOGUE_HINT
                continue
            yield from _field_problems(entity, full, sub_kind, sub_spec, f"{where}.each.{sub}")
