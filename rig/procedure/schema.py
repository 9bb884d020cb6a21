"""The procedure language as a JSON Schema (Draft 2020-12), for editors to complete and check files.

Built from what the loader reads (:mod:`rig.procedure.loader`: its top-level keys, the required
ones) and from the step kinds registered when it is asked (:func:`rig.steps.step_kinds`, so a
plugin's kinds are in it): one ``$defs`` entry per kind, a one-key mapping ``{kind: {fields}}``
whose fields are the kind's declared ones, each described by its type's fragment
(:meth:`rig.steps.fields.FieldType.json_schema`), the required ones those that are not optional,
no others allowed. ``$defs/any-step`` is one step of any kind, which the sections (and nested
``steps`` fields) list.

The schema checks what can be checked without the bench: a volume, channel or valve name is any
text here (the loader checks it against the bench), and no check a kind makes of its fields
against one another. So a file the loader reads always validates, and one that validates may
still be refused by ``rig validate``, which says where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rig.procedure.loader import REQUIRED_KEYS, SECTIONS, TOP_KEYS, VERSION
from rig.steps import Step, step_kinds
from rig.steps.fields import STEP_SCHEMA_REF, STEPS, TEXT, TIME

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://leakrig.invalid/schema/procedure.json"  # names the schema; nothing is fetched
ANY_STEP = STEP_SCHEMA_REF.rsplit("/", 1)[-1]


def procedure_schema(kinds: Mapping[str, type[Step]] | None = None) -> dict[str, Any]:
    """The JSON Schema of a procedure file whose steps are ``kinds`` (default: every registered kind)."""
    kinds = step_kinds() if kinds is None else kinds
    defs: dict[str, Any] = {kind: step_schema(cls) for kind, cls in sorted(kinds.items())}
    defs[ANY_STEP] = {
        "description": "one step: a mapping of its kind to its fields",
        "oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in sorted(kinds)],
    }
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        "title": "Leakrig procedure",
        "description": "A leak-test procedure as `rig run` and `rig validate` read it (rig schema).",
        "type": "object",
        "properties": _top_properties(),
        "required": sorted(REQUIRED_KEYS),
        "additionalProperties": False,
        "$defs": defs,
    }


def _top_properties() -> dict[str, Any]:
    sections = {name: {**STEPS.json_schema(), "description": f"the {name} steps"} for name in SECTIONS}
    properties = {
        "procedure": {**TEXT.json_schema(), "description": "the procedure's name"},
        "version": {"const": VERSION, "description": "the version of the procedure language"},
        "bench": {**TEXT.json_schema(), "description": "the bench file, relative to this file"},
        "description": {**TEXT.json_schema(), "description": "what the procedure tests"},
        "sample_period": {**TIME.json_schema(), "description": "how often every channel is read"},
        "gas": {**TEXT.json_schema(), "description": "the test gas (default: air)"},
        **sections,
    }
    assert properties.keys() == TOP_KEYS, "the schema states every top-level key the loader reads"
    return properties


def step_schema(cls: type[Step]) -> dict[str, Any]:
    """The schema of one step of kind ``cls``: ``{kind: {fields}}``."""
    declared = cls.declared()
    required = [d.name for d in declared if not d.optional]
    fields: dict[str, Any] = {
        "type": "object" if required else ["object", "null"],  # `{isolate: }` has no field to write
        "properties": {d.name: d.type.json_schema() for d in declared},
        "additionalProperties": False,
    }
    if required:
        fields["required"] = required
    return {
        "description": _summary(cls),
        "type": "object",
        "properties": {cls.kind: fields},
        "required": [cls.kind],
        "additionalProperties": False,
    }


def _summary(cls: type[Step]) -> str:
    """The first sentence of the kind's docstring (editors show it beside the completion)."""
    doc = " ".join((cls.__doc__ or cls.kind).split())
    return re.split(r"(?<=\.)\s", doc, maxsplit=1)[0]
