"""One model for planning and validation: every duration ``rig plan`` proposes, ``rig validate`` accepts.

The interface promises that the JSON's ``duration_s``, written into the procedure with the
limit planned for, gives a procedure the validator accepts. Once the planner asked only the
FAIL side's power of a leak above the limit, and proposed 182 s for a 5e-5 Pa·m³/s limit
(``--expected 1.5e-4``) that the validator refused as below what the gauge resolves in 182 s.
The procedure is edited as a person would edit it (its YAML), then validated by the code
``rig validate`` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from rig.analysis.planner import plan_duration
from rig.commands.validate import validation_problems
from rig.planning import choose_measurement, longest_allowed, setup_for
from rig.procedure.loader import load_procedure

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
SHIPPED = ("pressure_decay.yaml", "rate_of_rise.yaml", "seal_repair_certification.yaml")
# Written into a variant as a repeat's count around the measurement: the 90 days a procedure may
# plan then let each pass last about 26 min, less than a tight limit needs.
REPEATS = 5000


def _edit(steps: list[dict[str, Any]] | None, name: str, fields: dict[str, str]) -> None:
    for item in steps or []:
        kind, body = next(iter(item.items()))
        if kind == "measure_decay" and body["name"] == name:
            body.update(fields)
        if kind == "repeat":
            _edit(body["steps"], name, fields)


def write_variant(
    source: Path, out: Path, name: str | None = None, fields: dict[str, str] | None = None, repeat: int = 0
) -> Path:
    """``source`` rewritten to ``out``: its bench by absolute path, measurement ``name``'s fields
    replaced, and, with ``repeat``, that measurement run ``repeat`` times."""
    doc = yaml.safe_load(source.read_text())
    doc["bench"] = str((source.parent / doc["bench"]).resolve())
    if repeat:
        doc["main"] = [
            {"repeat": {"times": repeat, "steps": [item]}}
            if next(iter(item)) == "measure_decay" and next(iter(item.values()))["name"] == name
            else item
            for item in doc["main"]
        ]
    if name is not None and fields:
        _edit(doc["main"], name, fields)
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


def planned_fields(duration_s: float, limit_pa_m3_s: float) -> dict[str, str]:
    """The planned duration and limit as a procedure writes them (repr: exactly the floats)."""
    return {"duration": f"{duration_s!r} s", "limit": f"{limit_pa_m3_s!r} Pa*m**3/s"}


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shipped procedures with a measurement, and one whose bounds bind the measurement."""
    folder = tmp_path_factory.mktemp("variants")
    found = {f: write_variant(PROCEDURES / f, folder / f) for f in SHIPPED}
    found["repeated"] = write_variant(
        PROCEDURES / "pressure_decay.yaml", folder / "repeated.yaml", "decay", repeat=REPEATS
    )
    return found


def plan_and_validate(
    source: Path, out: Path, limit: float, expected: float
) -> tuple[float | None, str | None, list[str]]:
    """Plan ``source``'s measurement as ``rig plan`` does; the duration, the reason, and what the
    validator says of the procedure with the plan written into it (nothing when there is no plan)."""
    procedure = load_procedure(source)
    step = choose_measurement(procedure)
    longest, bounded_by = longest_allowed(procedure, step.name, limit)
    plan = plan_duration(
        setup_for(procedure, step), limit, expected, max_duration_s=longest, bounded_by=bounded_by
    )
    if plan.duration_s is None:
        return None, plan.reason, []
    write_variant(source, out, step.name, planned_fields(plan.duration_s, limit))
    _, problems = validation_problems(out)
    return plan.duration_s, None, [str(p) for p in problems]


@seed(14)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(
    which=st.sampled_from([*SHIPPED, "repeated"]),
    limit=st.floats(-5.0, -3.0).map(lambda e: 10.0**e),
    ratio=st.one_of(st.floats(0.0, 0.95), st.floats(1.05, 20.0)),
)
def test_every_planned_duration_validates(
    variants: dict[str, Path], tmp_path: Path, which: str, limit: float, ratio: float
) -> None:
    duration, reason, problems = plan_and_validate(
        variants[which], tmp_path / "planned.yaml", limit, ratio * limit
    )
    assert duration is not None or reason, "a plan without a duration says why"
    assert problems == []


def test_the_reported_disagreement(tmp_path: Path) -> None:
    # 182 s once; the validator's floor there is 5.49e-5 Pa·m³/s, above the limit.
    source = PROCEDURES / "pressure_decay.yaml"
    duration, _, problems = plan_and_validate(source, tmp_path / "planned.yaml", 5e-5, 1.5e-4)
    assert duration is not None and duration > 182.0
    assert problems == []


def test_the_procedures_bounds_bind_the_plan(variants: dict[str, Path], tmp_path: Path) -> None:
    # A pass at 1e-5 needs 1e4 s for E2930 alone; 5000 passes of it would take 579 days.
    duration, reason, _ = plan_and_validate(variants["repeated"], tmp_path / "p.yaml", 1e-5, 0.5e-5)
    assert duration is None and reason is not None
    assert "the procedure's bounds let 'decay' last at most" in reason and "90 days" in reason
    # A fail is decided sooner, within them.
    duration, _, problems = plan_and_validate(variants["repeated"], tmp_path / "p.yaml", 1e-5, 3e-5)
    assert duration is not None and problems == []


def test_the_cli_round_trip(tmp_path: Path) -> None:
    source = PROCEDURES / "pressure_decay.yaml"
    rig = [sys.executable, "-m", "rig"]
    limit, expected = "5e-5 Pa*m**3/s", "1.5e-4 Pa*m**3/s"
    done = subprocess.run(
        [*rig, "plan", str(source), "--limit", limit, "--expected", expected, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    planned = write_variant(
        source, tmp_path / "planned.yaml", result["measurement"],
        planned_fields(result["duration_s"], result["limit_pa_m3_s"]),
    )  # fmt: skip
    checked = subprocess.run(
        [*rig, "validate", str(planned)], capture_output=True, text=True, timeout=120, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "valid" in checked.stdout
