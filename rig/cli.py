"""The ``rig`` command: one entry point, one subcommand per job.

Bad input of any kind ends with one line on stderr naming the problem and exit
code 2, before anything is touched. No error reaches the user as a traceback (unless
``rig --debug``): a file or directory the system refuses (missing, not a directory,
permission, disk full) is one line and exit 2; Ctrl-C is one line and exit 130; output
into a closed pipe stops quietly with exit 141 (as a shell reports SIGPIPE); anything
unexpected is one line, ``internal error``, and exit 70. ``rig run`` keeps its own codes
0 to 4 (see :mod:`rig.commands.run`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from rig import __version__
from rig.commands import analyze, instruments, keys, plan, report, run, runs, sim, validate, verify
from rig.errors import InputError

EXIT_USAGE = 2
EXIT_SOFTWARE = 70  # os.EX_SOFTWARE: a bug of ours, not the user's
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the problem), not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar of ``rig``."""
    parser = _Parser(prog="rig", description="Leak-test rig controller.")
    parser.add_argument("--version", action="version", version=f"rig {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (before the command)"
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
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
    command, debug = "", False
    try:
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
        except SystemExit:
            sys.stdout.flush()  # --help or --version into a closed pipe fails here, not at exit
            raise
        if args.command is None:  # `rig` alone: what it can do, rather than one error line
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        command, debug = args.command, args.debug
        code: int = args.handler(args)
        # A reader that went away shows here, inside the handlers below, and not at exit.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Python's advice for SIGPIPE: nothing more can reach the reader, and the interpreter's
        # own flush at exit must not fail again, so stdout goes to devnull.
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except InputError as exc:
        return _fail(command, f"error: {exc}", EXIT_USAGE, debug)
    except (RecursionError, MemoryError) as exc:
        # Last line of defence against hostile input that slipped past the loaders' own limits
        # (nesting, size): one line and exit 2, never a traceback.
        what = "nested too deeply" if isinstance(exc, RecursionError) else "too large for memory"
        return _fail(command, f"error: input {what}", EXIT_USAGE, debug)
    except OSError as exc:
        return _fail(command, f"error: {_os_error(exc)}", EXIT_USAGE, debug)
    except KeyboardInterrupt:
        return _fail(command, "interrupted", EXIT_INTERRUPTED, debug)
    except Exception as exc:
        message = f"internal error: {type(exc).__name__}: {_one_line(str(exc))}"
        return _fail(command, f"{message} (run with --debug for details)", EXIT_SOFTWARE, debug)


def _fail(command: str, message: str, code: int, debug: bool) -> int:
    """Say ``message`` as one line on stderr (after the traceback with ``--debug``); return ``code``."""
    # stderr may be a closed pipe as well: the exit code still tells.
    with contextlib.suppress(OSError):
        if debug:
            traceback.print_exc()
        print(f"rig {command}: {message}" if command else f"rig: {message}", file=sys.stderr)
    return code


def _os_error(exc: OSError) -> str:
    """``path: reason`` for a refused file operation (``No such file or directory``, ``No space left``)."""
    reason = exc.strerror or _one_line(str(exc)) or type(exc).__name__
    paths = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _stdout_to_devnull() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test's capture): there is no interpreter exit to protect
    finally:
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
