"""The ``rig`` command: one entry point, one subcommand per job.

Bad input of any kind ends with one line on stderr naming the problem and exit
code 2, before anything is touched.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from rig import __version__
from rig.commands import analyze, instruments, keys, plan, report, run, runs, sim, validate, verify
from rig.errors import InputError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the problem), not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar of ``rig``."""
    parser = _Parser(prog="rig", description="Leak-test rig controller.")
    parser.add_argument("--version", action="version", version=f"rig {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    analyze.register(sub)
    sim.register(sub)
    instruments.register(sub)
    validate.register(sub)
    runs.register(sub)
    run.register(sub)
    plan.register(sub)
    report.register(sub)
    verify.register(sub)
    keys.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rig`` with ``argv`` (default: the process arguments); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except InputError as exc:
        print(f"rig {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (RecursionError, MemoryError) as exc:
        # Last line of defence against hostile input that slipped past the loaders' own limits
        # (nesting, size): one line and exit 2, never a traceback.
        what = "nested too deeply" if isinstance(exc, RecursionError) else "too large for memory"
        print(f"rig {args.command}: error: input {what}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
