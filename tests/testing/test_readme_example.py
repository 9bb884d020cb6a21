"""The README's example of the conformance kit runs as printed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from rig.testing import GaugeConformance
from tests.testing.kit_runs import run_kit_test

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.integration


def example() -> dict[str, Any]:
    section = README.read_text(encoding="utf-8").split("### Writing a driver: the conformance kit", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no python example in the kit's README section"
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(match[1], "README.md", "exec"), namespace)
    return namespace


def test_the_readme_example_runs() -> None:
    namespace = example()
    namespace["test_pr1_reads_pa"]()
    suite_class = namespace["TestTpg362"]
    assert issubclass(suite_class, GaugeConformance)
    for name in ("test_readings_are_in_pa_to_the_display_digits", "test_every_state_maps_to_its_reading"):
        run_kit_test(suite_class(), name)
