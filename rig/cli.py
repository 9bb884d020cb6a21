"""The ``rig`` command: one entry point, one subcommand per job.

Bad input of any kind ends with one line on stderr naming the problem and exit
code 2, before anything is touched. No error reaches the user as a traceback (unless
``rig --debug``): a file or directory the system refuses (missing, not a directory,
permission, disk full) is one line and exit 2; Ctrl-C is one line and exit 130; output
into a closed pipe stops quietly with exit 141 (as a shell reports SIGPIPE); anything
unexpected is one line, ``internal error``, and exit 70. ``rig run`` keeps its own codes
0 to 4 (see :mod:`rig.commands.run`).

Before the command runs, the user's configuration file (:mod:`rig.config`) fills in what the
command line left unsaid, and logging is routed as ``-v``/``--log-file`` say
(:mod:`rig.logging_setup`). These global options are also accepted after the subcommand.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from rig import __version__
from rig.commands import (
    analyze,
    evaluate,
    instruments,
    keys,
    plan,
    plugins,
    report,
    run,
    runs,
    sim,
    station,
    store,
    trend,
    validate,
    verify,
)
from rig.commands import schema as schema_command
from rig.config import Config, load_config
from rig.errors import InputError
from rig.logging_setup import FILE_ONLY, log, logging_to

EXIT_USAGE = 2
EXIT_SOFTWARE = 70  # os.EX_SOFTWARE: a bug of ours, not the user's
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a reader that went away
# Commands that reach instruments, and so take --visa-library after their name as well.
OPENS_INSTRUMENTS = {("run",), ("instruments", "probe"), ("station",)}
# Commands whose bench is named by --bench alone: the config's `bench` stands in for it.
BENCH_ALONE = {"instruments"}


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
    _global_options(parser, visa=True, default=None)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    analyze.register(sub)
    sim.register(sub)
    instruments.register(sub)
    validate.register(sub)
    runs.register(sub)
    run.register(sub)
    plan.register(sub)
    evaluate.register(sub)
    report.register(sub)
    verify.register(sub)
    keys.register(sub)
    plugins.register(sub)
    schema_command.register(sub)
    station.register(sub)
    trend.register(sub)
    store.register(sub)
    for path, command_parser in _command_parsers(parser, ()):
        _global_options(command_parser, visa=path in OPENS_INSTRUMENTS, default=argparse.SUPPRESS)
    return parser


def _global_options(parser: argparse.ArgumentParser, *, visa: bool, default: Any) -> None:
    """-v, --log-file (and --visa-library): on ``rig`` itself, and again after a subcommand's name.

    After a subcommand they default to SUPPRESS, so that ``rig -v run`` keeps the -v given before.
    """
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if default is None else default,
        help="say more on stderr: -v info, -vv debug (default: warnings)",
    )
    parser.add_argument(
        "--log-file", default=default, metavar="PATH", help="append every message, debug up, to PATH"
    )
    if visa:
        parser.add_argument(
            "--visa-library",
            default=default,
            metavar="LIB",
            help='VISA backend for pyvisa: "@py" (pyvisa-py, the default), "@ivi", or a library path',
        )


def _command_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every subcommand's parser, with its words (``("instruments", "probe")``), groups included."""
    if path:
        yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _command_parsers(child, (*path, name))


def _apply_config(args: argparse.Namespace, config: Config) -> None:
    """Fill in what the command line left unsaid from the environment and the config file."""
    from rig.config import data_dir

    args.config = config
    if hasattr(args, "data_dir"):
        args.data_dir = data_dir(args.data_dir, config)
    if getattr(args, "operator", "") is None:
        args.operator = config.operator
    if args.command in BENCH_ALONE and getattr(args, "bench", "") is None:
        if config.bench is None:
            raise InputError("--bench is required (and the config file names no `bench`)")
        args.bench = config.bench


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
        config = load_config()
        _apply_config(args, config)
        with logging_to(args.verbose, args.log_file or config.log_file, config.log_level):
            if config.source is not None:
                log.debug("configuration read from %s", config.source)
            try:
                code: int = args.handler(args)
                # A reader that went away shows here, inside the handlers below, and not at exit.
                sys.stdout.flush()
            except BaseException as exc:
                if not isinstance(exc, BrokenPipeError | SystemExit):
                    # The file gets the traceback; stderr gets only main's one line.
                    message = _one_line(str(exc)) or type(exc).__name__
                    log.error("%s", message, exc_info=True, extra={FILE_ONLY: True})
                raise
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
