"""Layers that point one way, and modules small enough to read (issue 13).

``rig.analysis`` is maths on plain numbers: it imports nothing from the layers that use it (the
engine, procedures, records, reports, the simulator, planning, the CLI), not even inside a
function, where an import hides from a reader of the module's head. ``rig.procedure`` reads
procedures for real benches and simulated ones alike and imports nothing from ``rig.sim``.
``rig.testing`` (the conformance kit) imports pytest and is for test code: nothing else in ``rig``
or ``drivers`` imports it.
Imports are read from the source with :mod:`ast`, so a lazy import counts as much as one at
the top, and a relative one is resolved against its package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 600
# What each package may not import, at the top of a module or inside a function.
FORBIDDEN = {
    "rig.analysis": (
        "rig.engine",
        "rig.procedure",
        "rig.record",
        "rig.report",
        "rig.sim",
        "rig.planning",
        "rig.commands",
        "rig.cli",
    ),
    "rig.procedure": ("rig.sim",),
}
DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def module_name(path: Path) -> str:
    """``rig/analysis/decay.py`` → ``rig.analysis.decay`` (a package's ``__init__`` is the package)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every import in ``source``, wherever it stands, relative ones resolved.

    ``from a import b`` yields ``a.b`` as well as ``a``, since ``b`` may be a module (``from rig
    import engine``); ``importlib.import_module("x")`` and ``__import__("x")`` with a literal
    name count too.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in DYNAMIC_IMPORTERS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((node.lineno, first.value))
    return found


def within(module: str, package: str) -> bool:
    """Whether ``module`` is ``package`` or inside it."""
    return module == package or module.startswith(package + ".")


def violations(package: str, forbidden: tuple[str, ...], exempt: str | None = None) -> list[str]:
    """Every import of a ``forbidden`` package by a module of ``package``, as ``path:line: module``.

    Modules of the sub-package ``exempt`` are not looked at.
    """
    directory = ROOT.joinpath(*package.split("."))
    modules = sorted(directory.rglob("*.py"))
    assert modules, f"no modules under {directory}"
    if exempt is not None:
        modules = [path for path in modules if not within(module_name(path), exempt)]
    out: dict[tuple[Path, int], str] = {}
    for path in modules:
        source = path.read_text(encoding="utf-8")
        for line, imported in imported_modules(source, module_name(path), path.name == "__init__.py"):
            if any(within(imported, f) for f in forbidden):
                # One line per import statement: ``from a.b import c`` names a.b and a.b.c.
                key = (path.relative_to(ROOT), line)
                out[key] = min(out.get(key, imported), imported, key=len)
    return [f"{path}:{line}: {imported}" for (path, line), imported in sorted(out.items())]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_from_the_layers_above_it(package: str) -> None:
    found = violations(package, FORBIDDEN[package])
    assert not found, f"{package} may not import {', '.join(FORBIDDEN[package])}:\n" + "\n".join(found)


@pytest.mark.parametrize("package", ["rig", "drivers"])
def test_only_tests_import_the_conformance_kit(package: str) -> None:
    found = violations(package, ("rig.testing",), exempt="rig.testing")
    assert not found, "rig.testing imports pytest and is for tests only:\n" + "\n".join(found)
    assert violations("rig", ("rig.testing",)), "the kit's own modules import it: the reader must see that"


def test_the_import_reader_sees_every_kind_of_import() -> None:
    source = """\
import rig.sim.gauges
from rig import engine
from . import budget
from ..record.atomic import write_atomically


def lazy():
    from rig.procedure.loader import Step
    import importlib

    importlib.import_module("rig.report.certificate")
    return __import__("rig.sim")
"""
    found = {name for _, name in imported_modules(source, "rig.analysis.example")}
    assert {
        "rig.sim.gauges",
        "rig.engine",
        "rig.analysis.budget",
        "rig.record.atomic",
        "rig.procedure.loader",
        "rig.report.certificate",
        "rig.sim",
    } <= found
    # A package's own __init__ resolves "." to itself, not to its parent.
    assert "rig.analysis.decay" in {
        n for _, n in imported_modules("from .decay import x", "rig.analysis", True)
    }
    forbidden = FORBIDDEN["rig.analysis"]
    assert {n for n in found if any(within(n, f) for f in forbidden)} >= {"rig.engine", "rig.sim.gauges"}
    assert not within("rig.simulation", "rig.sim")


def test_no_module_is_longer_than_it_can_be_read() -> None:
    lengths = {
        path.relative_to(ROOT): len(path.read_text(encoding="utf-8").splitlines())
        for directory in ("rig", "drivers")
        for path in (ROOT / directory).rglob("*.py")
    }
    assert len(lengths) > 50
    long = {str(path): n for path, n in lengths.items() if n > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split along a concept): {long}"
