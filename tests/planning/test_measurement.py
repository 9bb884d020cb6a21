"""Reading a procedure's measurement into the plan's numbers: which step, from what level, on which bench."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.engine.type_b import type_b_for
from rig.errors import InputError
from rig.planning import choose_measurement, level_before, setup_for
from rig.procedure.loader import load_procedure

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"


def test_the_measurement_and_its_level_in_the_shipped_procedures() -> None:
    seal = load_procedure(PROCEDURES / "seal_repair_certification.yaml")
    step = choose_measurement(seal)
    assert step.fields["name"] == "after_repair"  # the one with a limit
    assert level_before(seal, step) == pytest.approx((2e5, 5e3))
    assert choose_measurement(seal, "before_repair").fields["name"] == "before_repair"
    with pytest.raises(InputError, match="after_repair"):
        choose_measurement(seal, "nonesuch")
    rise = load_procedure(PROCEDURES / "rate_of_rise.yaml")
    setup = setup_for(rise, choose_measurement(rise))
    assert setup.sign == -1.0 and setup.level_pa == pytest.approx(1.0) and not setup.compensated
    # The simulated Pirani's noise is relative: sensor_floor alone would call it noiseless.
    assert setup.gauge_noise_relative == pytest.approx(0.002)
    with pytest.raises(InputError, match="no measure_decay"):
        choose_measurement(load_procedure(PROCEDURES / "reference_leak_check.yaml"))


def test_the_type_b_terms_are_the_engines_at_every_pressure() -> None:
    # The TPG's five printed digits: its step grows tenfold with each decade the window reaches.
    seal = load_procedure(PROCEDURES / "seal_repair_certification.yaml")
    setup = setup_for(seal, choose_measurement(seal))
    steps = set()
    for top_pa in (5e3, 5e4, 2e5, 1.2e6):
        engine = type_b_for(seal.bench, "p_article", ("article",), "t_article", top_pa)
        assert setup.type_b_at(top_pa) == engine
        steps.add(engine.resolution_pa)
    assert len(steps) >= 3
