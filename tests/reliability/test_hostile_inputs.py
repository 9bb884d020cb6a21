"""Issue 7, part 3: hostile input. Every case is refused cleanly: exit 2, one line per problem, fast.

The corpus is ``tests/reliability/hostile/``: ``p_*.yaml`` are procedures (``rig validate``, some
also ``rig run`` without ``--sim``), ``b_*.yaml`` benches (``rig validate good_procedure.yaml
--bench``), ``c_*.csv`` recordings (``rig analyze --volume "1 L"``). A file's first line may be
``# expect: FRAGMENT``: stderr must then contain FRAGMENT. Large and bomb-like files are not
committed: :func:`generate` writes them at test time (the very large ones only with
``RELIABILITY_FULL=1``). Hostile option values (``--volume``, ``--limit``) complete the set.

Each case runs ``python -m rig`` in a subprocess with a wall-clock timeout and an address-space
cap (``RLIMIT_AS``), and must exit 2 with a non-empty stderr of located or ``rig CMD: error:``
lines (no traceback) within the bound. The corpus benches name a TCP listener on 127.0.0.1 as
every instrument's resource, so a ``rig run`` that contacted an instrument would be counted; it
must also leave no run directory. With ``RELIABILITY_REPORT=PATH`` every case appends one JSON
line (case, command, exit code, wall time, peak RSS of the child) for RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.listening import Listener, copy_naming_listener

HOSTILE = Path(__file__).parent / "hostile"
FULL = bool(os.environ.get("RELIABILITY_FULL"))
TIMEOUT_S = 20.0
MEMORY_CAP_BYTES = 1536 * 1024 * 1024
MAX_LINE_CHARS = 2000  # a hostile value must not flood the message
EXPECT = re.compile(rb"^# expect: ?(?P<fragment>.*)$")
# A problem line: located (`file:line:col: ...`, `file:line: ...`), or the command's own error.
PROBLEM_LINE = re.compile(r"^(?:\S.*?:\d+(?::\d+)?: |rig \w+: error: |calibration: )")
GOOD_CSV = "".join(f"{i},{100000.0 - 0.01 * i}\n" for i in range(60))
# Procedure cases also run with `rig run` (no --sim): refused before any instrument is contacted.
RUN_CASES = {
    "p_python_object_apply",
    "p_duplicate_top_key",
    "p_deep_flow_40",
    "p_huge_repeat_times",
    "p_nan_duration",
    "p_exponent_tower",
    "p_duration_overflows_in_si",
    "gen_deep_nesting_100k",
    "gen_python_tag_side_effect",
    "b_nan_volume",
    "b_python_tag_resource",
    # Issue 12: procedures a run could not honestly do (a run would grow or hang before sampling).
    "p_repeat_billion_nested_8",
    "p_duration_billion_seconds",
    "p_sample_period_subnormal",
    "p_sample_period_nanosecond",
    "p_fill_past_the_interlock",
    "b_empty_safe_state",
    "b_valve_on_a_thermocouple_input",
}
# Run through a fresh `python -m rig` even in the CI subset (all are with RELIABILITY_FULL=1);
# the others run in a fork of the test process, which has rig imported already.
SUBPROCESS_CASES = {
    "p_python_object_apply",
    "run_p_python_object_apply",
    "run_b_nan_volume",
    "gen_deep_nesting_100k",
}


@dataclass(frozen=True)
class Case:
    """One hostile input: which command, on which file (relative to the corpus copy), with what options."""

    name: str
    command: str  # validate | bench | analyze | run | run-bench
    file: str
    options: tuple[str, ...] = ()

    def argv(self, root: Path, data_dir: Path) -> list[str]:
        """The `rig` arguments for this case in the corpus copy ``root``."""
        target = str(root / self.file)
        if self.command == "validate":
            return ["validate", target]
        if self.command == "bench":
            return ["validate", str(root / "good_procedure.yaml"), "--bench", target]
        if self.command == "run":
            return ["run", target, "--data-dir", str(data_dir), "--json"]
        if self.command == "run-bench":
            return ["run", str(root / "good_procedure.yaml"), "--bench", target, "--data-dir", str(data_dir)]
        return ["analyze", target, "--volume", "1 L", *self.options]


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _sparse(path: Path, size: int) -> None:
    """A file of ``size`` NUL bytes that costs no disk (a hole)."""
    with path.open("wb") as fh:
        fh.truncate(size)


def _yaml_head(bench: str = "good_bench.yaml") -> bytes:
    return f"procedure: hostile\nversion: 1\nbench: {bench}\n".encode()


def _billion_laughs(levels: int = 12, width: int = 10) -> bytes:
    lines = [b'lol0: &l0 "lol"']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * width)
        lines.append(f"lol{i}: &l{i} [{refs}]".encode())
    return b"\n".join(lines) + b"\n"


def _csv_rows(count: int) -> Iterator[bytes]:
    yield b"time,pressure\n"
    chunk = 100_000
    for start in range(0, count, chunk):
        yield "".join(
            f"{i},{100000 - i * 1e-3:.3f}\n" for i in range(start, min(count, start + chunk))
        ).encode()


# name -> (command, file name, writer, full mode only)
Generator = Callable[[Path], None]


def _generators(marker: Path) -> dict[str, tuple[str, str, Generator, bool]]:
    main = b"main:\n  - wait: {duration: 1 s}\n"
    return {
        "gen_billion_laughs": (
            "validate",
            "gen_billion_laughs.yaml",
            lambda p: _write(p, _billion_laughs()),
            False,
        ),
        "gen_billion_laughs_in_step": (
            "validate",
            "gen_billion_laughs_in_step.yaml",
            lambda p: _write(p, _yaml_head() + _billion_laughs(9, 9).replace(b"lol", b"x_lol") + main),
            False,
        ),
        "gen_deep_nesting_100k": (
            "validate",
            "gen_deep_nesting_100k.yaml",
            lambda p: _write(
                p, _yaml_head() + b"description: " + b"[" * 100_000 + b"]" * 100_000 + b"\n" + main
            ),
            False,
        ),
        "gen_deep_mapping_5k": (
            "validate",
            "gen_deep_mapping_5k.yaml",
            lambda p: _write(
                p, _yaml_head() + b"description: " + b"{a: " * 5000 + b"1" + b"}" * 5000 + b"\n" + main
            ),
            False,
        ),
        "gen_deep_block_1k": (
            "validate",
            "gen_deep_block_1k.yaml",
            lambda p: _write(
                p,
                _yaml_head()
                + b"description:\n"
                + b"".join(b" " * (i + 1) + b"k:\n" for i in range(1000))
                + main,
            ),
            False,
        ),
        "gen_integer_100k_digits": (
            "validate",
            "gen_integer_100k_digits.yaml",
            lambda p: _write(p, _yaml_head().replace(b"version: 1", b"version: " + b"7" * 100_000) + main),
            False,
        ),
        "gen_python_tag_side_effect": (
            "validate",
            "gen_python_tag_side_effect.yaml",
            lambda p: _write(
                p,
                _yaml_head()
                + f"description: !!python/object/apply:os.system ['touch {marker}']\n".encode()
                + main,
            ),
            False,
        ),
        "gen_yaml_over_size_limit": (
            "validate",
            "gen_yaml_over_size_limit.yaml",
            lambda p: _write(p, _yaml_head() + b"# " + b"x" * 3_000_000 + b"\n" + main),
            False,
        ),
        "gen_yaml_many_unknown_keys": (
            "validate",
            "gen_yaml_many_unknown_keys.yaml",
            lambda p: _write(
                p, _yaml_head() + b"".join(f"k{i}: {i}\n".encode() for i in range(20_000)) + main
            ),
            False,
        ),
        "gen_yaml_long_scalar": (
            "validate",
            "gen_yaml_long_scalar.yaml",
            lambda p: _write(
                p, _yaml_head() + b"description: " + b"a" * 1_900_000 + b"\n" + main + b"bogus: 1\n"
            ),
            False,
        ),
        "gen_yaml_random_bytes": (
            "validate",
            "gen_yaml_random_bytes.yaml",
            lambda p: _write(p, os.urandom(1_000_000)),
            False,
        ),
        "gen_yaml_sparse_2gb": (
            "validate",
            "gen_yaml_sparse_2gb.yaml",
            lambda p: _sparse(p, 2 * 1024**3),
            False,
        ),
        "gen_csv_random_bytes": (
            "analyze",
            "gen_csv_random_bytes.csv",
            lambda p: _write(p, os.urandom(1_000_000)),
            False,
        ),
        "gen_csv_one_long_line": (
            "analyze",
            "gen_csv_one_long_line.csv",
            lambda p: _write(p, b"time,pressure\n0," + b"1" * 20_000_000),
            False,
        ),
        "gen_csv_wide_header": (
            "analyze",
            "gen_csv_wide_header.csv",
            lambda p: _write(
                p, b"time,pressure," + b",".join(b"c%d" % i for i in range(200_000)) + b"\n0,1\n"
            ),
            False,
        ),
        "gen_csv_sparse_over_limit": (
            "analyze",
            "gen_csv_sparse_over_limit.csv",
            lambda p: _sparse(p, 300 * 1024**2),
            False,
        ),
        "gen_csv_sparse_8gb": ("analyze", "gen_csv_sparse_8gb.csv", lambda p: _sparse(p, 8 * 1024**3), True),
        "gen_csv_too_many_rows": (
            "analyze",
            "gen_csv_too_many_rows.csv",
            lambda p: _write(p, b"".join(_csv_rows(5_000_001))),
            True,
        ),
        "gen_csv_250mb_of_comments": (
            "analyze",
            "gen_csv_250mb_of_comments.csv",
            lambda p: _write(p, (b"# " + b"c" * 1000 + b"\n") * 250_000 + b"time,pressure\n"),
            True,
        ),
    }


def _option_cases() -> list[Case]:
    """Hostile option values on a good recording (``good.csv``, written with the copy)."""
    values = {
        "volume_exponent_tower": ("--volume", "10**10**10 L"),
        "volume_nested_powers": ("--volume", "((((10**99)**99)**99)**99)**99 L"),
        "volume_code_injection": ("--volume", "1 __import__('os')"),
        "volume_unbalanced_paren": ("--volume", "(((((1 L"),
        "volume_nan": ("--volume", "nan L"),
        "volume_inf": ("--volume", "inf L"),
        "volume_huge_literal": ("--volume", "9" * 10_000 + " L"),
        "volume_in_bar": ("--volume", "1 bar"),
        "limit_nan": ("--limit", "nan sccm"),
        "limit_exponent_tower": ("--limit", "2**2**2**2**2**2 sccm"),
        "limit_in_pascal": ("--limit", "5 Pa"),
        "t_ref_negative": ("--t-ref", "-300 K"),
    }
    return [Case(f"opt_{name}", "analyze", "good.csv", (opt, value)) for name, (opt, value) in values.items()]


def _corpus_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(HOSTILE.glob("p_*.yaml")):
        cases.append(Case(path.stem, "validate", path.name))
    for path in sorted(HOSTILE.glob("b_*.yaml")):
        cases.append(Case(path.stem, "bench", path.name))
    for path in sorted(HOSTILE.glob("c_*.csv")):
        cases.append(Case(path.stem, "analyze", path.name))
    return cases


def all_cases() -> list[object]:
    """Every case as a pytest parameter; the full-mode-only ones skipped in the CI subset."""
    params: list[object] = [pytest.param(c, id=c.name) for c in _corpus_cases() + _option_cases()]
    for name, (command, file, _, full_only) in _generators(Path("marker")).items():
        marks = (
            [pytest.mark.skipif(not FULL, reason="very large file: RELIABILITY_FULL=1")] if full_only else []
        )
        params.append(pytest.param(Case(name, command, file), id=name, marks=marks))
    for case in _corpus_cases() + [Case(n, v[0], v[1]) for n, v in _generators(Path("m")).items()]:
        if case.name in RUN_CASES:
            command = "run-bench" if case.command == "bench" else "run"
            params.append(pytest.param(Case(f"run_{case.name}", command, case.file), id=f"run_{case.name}"))
    return params


@dataclass(frozen=True)
class Corpus:
    root: Path
    marker: Path  # a Python-tag case would create it if a tag were ever executed


@pytest.fixture(scope="module")
def corpus(listener: Listener, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """A copy of the corpus whose benches name the listener, plus the generated files."""
    root = tmp_path_factory.mktemp("hostile")
    copy_naming_listener(HOSTILE, root, listener)
    (root / "good.csv").write_text("time,pressure\n" + GOOD_CSV)
    return Corpus(root, root / "tag_was_executed")


def generate(corpus: Corpus, case: Case) -> None:
    """Write the generated file of ``case`` (if it is one, and not written yet)."""
    gens = _generators(corpus.marker)
    name = case.name.removeprefix("run_")
    if name in gens and not (corpus.root / case.file).exists():
        gens[name][2](corpus.root / case.file)


def _limit_memory(inherited: int = 0) -> None:  # runs in the child before exec (or in the fork)
    cap = inherited + MEMORY_CAP_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _address_space() -> int:
    """This process's virtual size now: a fork inherits it, so the fork's cap counts from it
    (after the rest of a test session the parent alone can be past 1.5 GB of address space)."""
    pages = int(Path("/proc/self/statm").read_text().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str
    wall_s: float
    peak_rss_mb: float
    timed_out: bool


def run_rig(argv: list[str], cwd: Path, *, fork: bool) -> Outcome:
    """``rig ARGV`` in a child capped in time and memory; its own peak RSS from ``wait4``.

    ``fork``: the child is a fork of this process calling :func:`rig.cli.main` (no interpreter
    start-up, so the CI subset stays fast on two cores); otherwise a fresh ``python -m rig``.
    """
    err_path = cwd / f"stderr-{threading.get_ident()}-{time.monotonic_ns()}.txt"
    started = time.monotonic()
    if fork:
        return _run_forked(argv, cwd, err_path, started)
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rig", *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=cwd,
            preexec_fn=_limit_memory,
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(TIMEOUT_S, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait
    wall = time.monotonic() - started
    stderr = err_path.read_bytes().decode("utf-8", errors="replace")
    err_path.unlink()
    # ru_maxrss is in KiB on Linux.
    return Outcome(proc.returncode, stderr, wall, usage.ru_maxrss / 1024.0, timed_out.is_set())


def _run_forked(argv: list[str], cwd: Path, err_path: Path, started: float) -> Outcome:
    fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    inherited = _address_space()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.chdir(cwd)
            _limit_memory(inherited)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(null, 1)
            os.dup2(fd, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - pytest replaced the streams
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            from rig.cli import main

            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(fd)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        os.kill(pid, signal.SIGKILL)

    timer = threading.Timer(TIMEOUT_S, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(pid, 0)
    finally:
        timer.cancel()
    wall = time.monotonic() - started
    stderr = err_path.read_bytes().decode("utf-8", errors="replace")
    err_path.unlink()
    return Outcome(
        os.waitstatus_to_exitcode(status), stderr, wall, usage.ru_maxrss / 1024.0, timed_out.is_set()
    )


def record(case: Case, argv: list[str], outcome: Outcome, *, fork: bool) -> None:
    """Append this case's row to ``$RELIABILITY_REPORT`` (one JSON line, one write: append-safe)."""
    report = os.environ.get("RELIABILITY_REPORT")
    if not report:
        return
    row = {
        "suite": "hostile inputs",
        "case": case.name,
        "command": "rig " + " ".join(_shorten(a) for a in argv),
        "exit_code": outcome.code,
        "child": "python -m rig" if not fork else "fork",
        "wall_s": round(outcome.wall_s, 3),
        "peak_rss_mb": round(outcome.peak_rss_mb, 1),
    }
    line = (json.dumps(row) + "\n").encode()
    fd = os.open(report, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _shorten(arg: str) -> str:
    arg = re.sub(r"^/.*/hostile\d*/", "", arg)  # the corpus copy's temporary directory
    return arg if len(arg) <= 40 else arg[:37] + "..."


def expected_fragment(path: Path) -> str | None:
    """The ``# expect:`` fragment on the first line of ``path`` (None when there is none)."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    with path.open("rb") as fh:
        first = fh.readline(4096).rstrip(b"\r\n")
    match = EXPECT.match(first)
    return match["fragment"].decode().strip() or None if match else None


@pytest.mark.parametrize("case", all_cases())
def test_hostile_input_is_refused_cleanly(
    case: Case, corpus: Corpus, listener: Listener, tmp_path: Path
) -> None:
    """Exit 2, located one-line problems, no traceback, within the time bound, nothing contacted."""
    generate(corpus, case)
    data_dir = tmp_path / "data"
    argv = case.argv(corpus.root, data_dir)
    before = listener.accepted
    fork = not FULL and case.name not in SUBPROCESS_CASES
    outcome = run_rig(argv, tmp_path, fork=fork)
    record(case, argv, outcome, fork=fork)

    assert not outcome.timed_out, f"still running after {TIMEOUT_S} s"
    assert outcome.wall_s < TIMEOUT_S
    assert "Traceback" not in outcome.stderr, outcome.stderr[-3000:]
    assert outcome.code == 2, outcome.stderr[-3000:]
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert lines, "no message on stderr"
    for line in lines:
        assert len(line) <= MAX_LINE_CHARS, f"a {len(line)}-character line: {line[:200]}..."
        assert PROBLEM_LINE.match(line), f"not a problem line: {line[:300]}"
    fragment = expected_fragment(corpus.root / case.file)
    if fragment is not None:
        assert fragment in outcome.stderr, outcome.stderr[-3000:]
    assert listener.accepted == before, "an instrument resource was contacted"
    assert not data_dir.exists() or not [p for p in data_dir.rglob("*") if p.is_dir()], "a run was recorded"
    assert not corpus.marker.exists(), "a Python tag was executed"


def test_the_corpus_is_large_enough() -> None:
    """At least 60 cases (the issue's bar), every kind represented, at least 5 through `rig run`."""
    assert len(all_cases()) >= 60
    assert len(RUN_CASES) >= 5
    names = {c.name for c in _corpus_cases()} | set(_generators(Path("m")))
    assert names >= RUN_CASES, RUN_CASES - names
    stray = {p.name for p in HOSTILE.iterdir()} - {f"{c.name}{Path(c.file).suffix}" for c in _corpus_cases()}
    assert stray == {"good_bench.yaml", "good_procedure.yaml"}, stray
