"""``rig schema``: a JSON Schema (Draft 2020-12) of the procedure language, plugin steps included.

Checked with the ``jsonschema`` library: the schema is a valid Draft 2020-12 schema, every
procedure the loader accepts (the shipped ones, the corpus's valid ones) validates, the mistakes
the schema can see without a bench are refused, and a kind registered at run time is in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from jsonschema import Draft202012Validator

from rig.cli import main
from rig.procedure.loader import REQUIRED_KEYS, TOP_KEYS, load_procedure
from rig.procedure.schema import procedure_schema
from rig.steps import Step, StepContext, register_step, step_field, step_kinds, unregister_step
from rig.steps.fields import PRESSURE, VALVE_LIST, choice
from tests.procedure.test_corpus import CORPUS, SUPPORT_FILES

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "procedures").glob("*.yaml"))
# The corpus's valid procedures: its support files that are procedures (not its good bench).
VALID_CORPUS = [CORPUS / name for name in sorted(SUPPORT_FILES) if name != "good_bench.yaml"]


def validator() -> Draft202012Validator:
    return Draft202012Validator(procedure_schema())


def errors(document: Any) -> list[str]:
    return [e.message for e in validator().iter_errors(document)]


def test_the_schema_is_a_draft_2020_12_schema_of_every_top_key_and_registered_kind() -> None:
    schema = procedure_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == TOP_KEYS
    assert set(schema["required"]) == REQUIRED_KEYS
    assert schema["additionalProperties"] is False
    kinds = step_kinds()
    assert set(schema["$defs"]) == {*kinds, "any-step"}
    for kind, cls in kinds.items():
        fields = schema["$defs"][kind]["properties"][kind]
        assert set(fields["properties"]) == {d.name for d in cls.declared()}
        assert set(fields.get("required", [])) == {d.name for d in cls.declared() if not d.optional}
        assert fields["additionalProperties"] is False


@pytest.mark.parametrize("path", SHIPPED + VALID_CORPUS, ids=lambda p: p.name)
def test_every_procedure_the_loader_accepts_validates(path: Path) -> None:
    load_procedure(path)  # the loader accepts it
    assert errors(yaml.safe_load(path.read_text())) == []


GOOD_MAIN = [{"fill": {"volume": "article", "to": "2 bar", "tolerance": "50 mbar", "timeout": "5 min"}}]


def document(*main: Any) -> dict[str, Any]:
    return {"procedure": "p", "version": 1, "bench": "b.yaml", "main": list(main) or GOOD_MAIN}


@pytest.mark.parametrize(
    ("broken", "fragment"),
    [
        ({**document(), "colour": "red"}, "'colour' was unexpected"),
        ({"procedure": "p", "version": 1}, "'main' is a required property"),
        ({**document(), "sample_period": 1}, "1 is not of type 'string'"),
        (document({"knock": {"duration": "1 s"}}), "is not valid under any of the given schemas"),
        (
            document({"fill": {"volume": "article", "to": "2 bar", "timeout": "5 min"}}),
            "'tolerance' is a required",
        ),
        (document({"wait": {"duration": "1 s", "color": "red"}}), "'color' was unexpected"),
        (document({"wait": {"duration": "ten s"}}), "does not match"),
        (document({"wait": {"duration": "-4 s"}}), "does not match"),
        (document({"zero_check": {"channel": "p", "against": "moon"}}), "'moon' is not one of"),
        (document({"set_valves": {"valves": {"vent": "ajar"}}}), "'ajar' is not one of"),
        (document({"prompt": {"message": "go?", "expect": "maybe"}}), "'maybe' is not one of"),
        (document({"repeat": {"times": 0, "steps": []}}), "0 is less than the minimum of 1"),
        (
            document({"repeat": {"times": 2, "steps": [{"wait": {"duration": 3}}]}}),
            "3 is not of type 'string'",
        ),
        (document({"wait": {"duration": "1 s"}, "vent": {"volume": "a"}}), "is not valid under any"),
    ],
)
def test_mistakes_are_refused(broken: dict[str, Any], fragment: str) -> None:
    # A step that matches no kind fails the oneOf; its branches' own errors say how.
    messages = [sub.message for e in validator().iter_errors(broken) for sub in _leaves(e)]
    assert any(fragment in m for m in messages), messages


def _leaves(error: Any) -> Iterator[Any]:
    """An error and every error under it (a oneOf's own errors say which branch failed how)."""
    yield error
    for sub in error.context or ():
        yield from _leaves(sub)


def test_a_nested_step_and_a_bare_yes_answer_validate() -> None:
    nested = {"repeat": {"times": 2, "steps": [{"wait": {"duration": "1 s"}}, {"isolate": {"volume": "a"}}]}}
    assert errors(document(nested, {"prompt": {"message": "go?", "expect": True}})) == []


@dataclass(frozen=True, kw_only=True)
class Hatch(Step):
    """Cycle the hatches (a step kind a plugin might ship)."""

    kind: ClassVar[str] = "cycle_hatches"

    hatches: tuple[str, ...] = step_field("hatches", VALVE_LIST)
    below_pa: float = step_field("below", PRESSURE)
    mode: str | None = step_field("mode", choice("slow", "fast"), optional=True)

    def run(self, ctx: StepContext) -> None:
        """Nothing: the schema only reads its declarations."""


@pytest.fixture
def hatch() -> Iterator[None]:
    register_step(Hatch)
    try:
        yield
    finally:
        unregister_step(Hatch.kind)


def test_a_kind_registered_at_run_time_is_in_rig_schema(
    hatch: None, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    Draft202012Validator.check_schema(schema)
    fields = schema["$defs"]["cycle_hatches"]["properties"]["cycle_hatches"]
    assert fields["required"] == ["hatches", "below"]
    assert fields["properties"]["mode"]["enum"] == ["slow", "fast"]
    check = Draft202012Validator(schema)
    good = {"cycle_hatches": {"hatches": ["h1", "h2"], "below": "1 mbar", "mode": "fast"}}
    assert list(check.iter_errors(document(good))) == []
    assert list(
        check.iter_errors(document({"cycle_hatches": {"hatches": ["h1"], "below": "1 mbar", "mode": "x"}}))
    )
    assert list(check.iter_errors(document({"cycle_hatches": {"hatches": [], "below": "1 mbar"}})))


def test_without_the_kind_it_is_not_in_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "cycle_hatches" not in schema["$defs"]


def test_rig_schema_output_writes_the_same_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "procedure.schema.json"
    assert main(["schema", "--output", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text()) == json.loads(json.dumps(procedure_schema()))


def test_rig_schema_output_to_a_missing_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "--output", str(tmp_path / "nowhere" / "s.json")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "No such file or directory" in lines[0], lines
