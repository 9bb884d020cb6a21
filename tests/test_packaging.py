"""What ``pip install .`` ships: every package of the controller, so that the installed ``rig`` starts.

A hand-written package list once left ``rig.execution`` out: the editable install used by the
suite hid it (it imports from the source tree), and README's first command, ``pip install .``
then ``rig run``, failed with ModuleNotFoundError. This reads the packaging configuration the
way setuptools does and compares it with the packages on disk.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def on_disk(top: str) -> set[str]:
    return {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_every_package_of_rig_and_drivers_is_installed() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    listed = isinstance(packages, list)
    found = set(packages) if listed else set(find_packages(where=str(ROOT), **packages["find"]))
    expected = on_disk("rig") | on_disk("drivers")
    assert {"rig.execution", "rig.testing", "rig.sim.servers"} <= expected
    assert expected <= found, f"packages not installed: {sorted(expected - found)}"
    assert not {p for p in found if p.split(".")[0] not in ("rig", "drivers")}, "tests are not shipped"
