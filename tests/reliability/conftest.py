"""The oracle campaign's own lines at the end of a pytest session: what the stored regressions show now.

A failing regression's test id names the invariant it was found breaking; this summary says,
for every stored regression replayed, which invariants fail *now* (all of them are checked),
and counts the generated scenarios' violations per invariant.
"""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the oracle's replay table, if the oracle campaign ran in this session."""
    module = sys.modules.get("tests.reliability.test_oracle_campaign")
    if module is None:
        return
    replayed: list[tuple[str, str, list[str]]] = module.REPLAYED
    generated: list[tuple[str, list[str]]] = module.GENERATED
    if replayed:
        terminalreporter.write_sep("=", f"oracle: {len(replayed)} stored regressions replayed")
        for name, found_as, failing in replayed:
            now = f"still fails {', '.join(failing)}" if failing else "holds every invariant"
            terminalreporter.write_line(f"{name:<40} found as {found_as}: {now}")
    if generated:
        counts: dict[str, int] = {}
        for _, failing in generated:
            for invariant in failing:
                counts[invariant] = counts.get(invariant, 0) + 1
        broken = ", ".join(f"{i}: {n}" for i, n in sorted(counts.items())) or "none"
        terminalreporter.write_sep("=", f"oracle: {len(generated)} generated scenarios; violations {broken}")
