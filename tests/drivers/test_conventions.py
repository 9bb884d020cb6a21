"""Conventions every shipped driver keeps (PyMeasure-style meta-test), with the kit's checks."""

from __future__ import annotations

import pytest

from drivers.models import MODELS
from drivers.registry import driver_class
from rig.testing.conventions import floats_without_units, open_problems, undocumented_or_untyped

CLASSES = sorted({driver_class(model) for model in MODELS}, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_public_method_is_documented_and_typed(cls: type) -> None:
    problems = undocumented_or_untyped(cls)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_driver_opens_from_a_resource_name(cls: type) -> None:
    problems = open_problems(cls)
    assert not problems, "\n".join(problems)


def test_units_in_names_where_a_float_carries_one() -> None:
    problems = [problem for cls in CLASSES for problem in floats_without_units(cls)]
    assert not problems, "\n".join(problems)
