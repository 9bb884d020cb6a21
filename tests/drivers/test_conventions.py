"""Conventions every driver keeps (PyMeasure-style meta-test): documented, typed, SI units."""

from __future__ import annotations

import inspect

import pytest

from drivers.models import MODELS
from drivers.registry import driver_class

CLASSES = sorted({driver_class(model) for model in MODELS}, key=lambda cls: cls.__name__)


def public_members(cls: type) -> list[tuple[str, object]]:
    own = [(name, value) for name, value in vars(cls).items() if not name.startswith("_")]
    return [(n, v) for n, v in own if callable(v) or isinstance(v, property | classmethod | staticmethod)]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_public_method_is_documented_and_typed(cls: type) -> None:
    assert cls.__doc__ and cls.__doc__.strip()
    for name, member in public_members(cls):
        func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        assert func.__doc__ and func.__doc__.strip(), f"{cls.__name__}.{name} has no docstring"
        signature = inspect.signature(func)
        assert signature.return_annotation is not inspect.Signature.empty, (
            f"{cls.__name__}.{name} has no return type"
        )
        for pname, param in signature.parameters.items():
            if pname in ("self", "cls") or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                continue
            assert param.annotation is not inspect.Parameter.empty, (
                f"{cls.__name__}.{name}({pname}) is untyped"
            )


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_driver_opens_from_a_resource_name(cls: type) -> None:
    assert isinstance(vars(cls).get("open"), classmethod), f"{cls.__name__} has no open() classmethod"
    assert "timeout_s" in inspect.signature(cls.open).parameters


def test_units_in_names_where_a_float_carries_one() -> None:
    # Public methods returning a bare float must say their unit in the name (pressure_pa, temperature_k…).
    suffixes = ("_pa", "_k", "_v", "_s", "volts")
    for cls in CLASSES:
        for name, member in public_members(cls):
            func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
            if inspect.signature(func).return_annotation in (float, "float"):
                assert name.endswith(suffixes), (
                    f"{cls.__name__}.{name} returns a float without a unit in its name"
                )
