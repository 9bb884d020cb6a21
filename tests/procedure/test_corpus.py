"""The corpus of broken inputs: each is refused with its problems located, and none reaches an instrument.

Every ``tests/procedure/corpus/NN_*.yaml`` is a broken procedure and every ``bench_NN_*.yaml`` a
broken bench (checked with ``procedure_for_benches.yaml`` and ``--bench``). A case's first lines
say what must be reported, one line per problem, in any order::

    # expect: 6:41: unknown valve 'vnt'
    # expect: bench_04_negative_volume.yaml:9:19: volume must be positive

``LINE:COL: fragment`` is a problem in the file itself; a leading ``FILE:`` puts it in another
corpus file (the bench a procedure names). The corpus benches name their instruments'
resources as ``TCPIP::127.0.0.1::{port}::SOCKET``: the tests copy the corpus with ``{port}``
replaced by a listener's port (on lines after, or columns right of, every expected place),
so ``rig run`` without ``--sim`` would reach that listener if it ever contacted an instrument.
"""

from __future__ import annotations

import re
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from rig.cli import main
from rig.procedure.loader import load_procedure
from tests.listening import PLACEHOLDER, Listener, copy_naming_listener

CORPUS = Path(__file__).parent / "corpus"
BENCH_PROCEDURE = "procedure_for_benches.yaml"
SUPPORT_FILES = {"good_bench.yaml", "good_procedure.yaml", BENCH_PROCEDURE}
EXPECT = re.compile(
    r"^# expect: (?:(?P<file>[\w.-]+\.yaml):)?(?P<line>\d+):(?P<col>\d+): (?P<fragment>\S.*)$"
)
# Cases the validator gets wrong today (the tests are written for the right behaviour), each
# marked as a strict xfail with the reason. None at present.
KNOWN_BUGS: dict[str, str] = {}
# Cases checked through a real `python -m rig` process; the others call rig.cli.main in-process.
SUBPROCESS_CASES = {
    "03_yaml_tab.yaml",
    "04_python_tag.yaml",
    "22_unknown_valve.yaml",
    "59_several_problems.yaml",
    "60_problems_here_and_in_the_bench.yaml",
    "bench_07_safe_state_unknown_valve.yaml",
}


@dataclass(frozen=True)
class Expected:
    """One problem a case must report: in which corpus file, where, and part of its message."""

    file: str
    line: int
    col: int
    fragment: str


@dataclass(frozen=True)
class Case:
    """A corpus file and the problems it must produce."""

    name: str
    expected: tuple[Expected, ...]

    @property
    def is_bench(self) -> bool:
        """Whether the broken file is a bench (given with --bench to a valid procedure)."""
        return self.name.startswith("bench_")

    def args(self, root: Path) -> list[str]:
        """The procedure argument and options that check this case in the corpus copy ``root``."""
        if self.is_bench:
            return [str(root / BENCH_PROCEDURE), "--bench", str(root / self.name)]
        return [str(root / self.name)]


def read_case(path: Path) -> Case:
    """The case in ``path``: its leading ``# expect:`` lines."""
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    expected = []
    for line in lines:
        match = EXPECT.match(line)
        if match is None:
            break
        expected.append(
            Expected(
                file=match["file"] or path.name,
                line=int(match["line"]),
                col=int(match["col"]),
                fragment=match["fragment"],
            )
        )
    return Case(path.name, tuple(expected))


def corpus_cases() -> list[Case]:
    """Every case in the corpus, procedures first."""
    paths = sorted(CORPUS.glob("[0-9][0-9]_*.yaml")) + sorted(CORPUS.glob("bench_[0-9][0-9]_*.yaml"))
    return [read_case(path) for path in paths]


CASES = corpus_cases()


def case_params() -> list[object]:
    """The cases as pytest parameters, the known validator bugs marked as strict xfails."""
    return [
        pytest.param(
            case,
            id=case.name.removesuffix(".yaml"),
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case.name])]
            if case.name in KNOWN_BUGS
            else [],
        )
        for case in CASES
    ]


@pytest.fixture(scope="module")
def corpus(listener: Listener, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus whose benches name the listener as every instrument's resource."""
    root = tmp_path_factory.mktemp("corpus")
    copy_naming_listener(CORPUS, root, listener)
    return root


def rig_subprocess(*args: str) -> tuple[int, str]:
    """``python -m rig ARGS``: exit code and stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "rig", *args], capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode, done.stderr


def rig_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``rig ARGS`` through :func:`rig.cli.main`: exit code and stderr.

    An exception escaping ``main`` is returned as exit code 1 with its traceback on stderr, as a
    ``python -m rig`` process would end, so a crash fails the test's assertions like any wrong output.
    """
    capsys.readouterr()
    try:
        code = main(list(args))
    except Exception:
        print(traceback.format_exc(), file=sys.stderr)
        code = 1
    return code, capsys.readouterr().err


def rig(capsys: pytest.CaptureFixture[str], case: Case, *args: str) -> tuple[int, str]:
    """Run ``rig ARGS`` for ``case``, in a process of its own for the few SUBPROCESS_CASES."""
    if case.name in SUBPROCESS_CASES:
        return rig_subprocess(*args)
    return rig_in_process(capsys, *args)


def assert_reported(case: Case, root: Path, stderr: str) -> None:
    """Each expected problem has its own stderr line at its place, and nothing else is reported."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    unused = list(lines)
    for exp in case.expected:
        place = f"{root / exp.file}:{exp.line}:{exp.col}: "
        located = re.compile(rf"^{re.escape(place)}.*{re.escape(exp.fragment)}")
        match = next((line for line in unused if located.match(line)), None)
        assert match is not None, (
            f"no line `{exp.file}:{exp.line}:{exp.col}: ...{exp.fragment}...` in:\n{stderr}"
        )
        unused.remove(match)
    assert not unused, f"{len(unused)} unexpected line(s):\n" + "\n".join(unused)


@pytest.mark.parametrize("case", case_params())
def test_rig_validate_reports_each_problem_at_its_place(
    case: Case, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``rig validate`` exits 2 with one ``file:line:col: message`` line per expected problem."""
    code, stderr = rig(capsys, case, "validate", *case.args(corpus))
    assert code == 2, stderr
    assert_reported(case, corpus, stderr)


@pytest.mark.parametrize("case", case_params())
def test_rig_run_refuses_without_contacting_an_instrument(
    case: Case, corpus: Path, listener: Listener, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``rig run`` (no --sim) reports the same problems, opens no connection and records no run."""
    data = tmp_path / "data"
    before = listener.accepted
    code, stderr = rig(capsys, case, "run", *case.args(corpus), "--data-dir", str(data), "--json")
    assert listener.accepted == before, "rig run connected to the bench's instrument resource"
    assert code == 2, stderr
    assert_reported(case, corpus, stderr)
    assert not data.exists() or not [p for p in data.rglob("*") if p.is_dir()], "a run directory was created"


@pytest.mark.parametrize("name", ["good_procedure.yaml", BENCH_PROCEDURE])
def test_the_corpus_baselines_are_valid(name: str, corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The procedures and bench the cases depart from validate, so each case fails for its own defect."""
    code, stderr = rig_in_process(capsys, "validate", str(corpus / name))
    assert code == 0, stderr


def test_the_corpus_is_large_and_every_expectation_is_located() -> None:
    assert len(CASES) >= 40
    names = {case.name for case in CASES}
    assert set(KNOWN_BUGS) <= names, "KNOWN_BUGS names a file that is not a case"
    assert set(SUBPROCESS_CASES) <= names, "SUBPROCESS_CASES names a file that is not a case"
    strays = {p.name for p in CORPUS.iterdir()} - names - SUPPORT_FILES
    assert not strays, f"corpus files that are neither cases nor support files: {strays}"
    for case in CASES:
        assert case.expected, f"{case.name}: no `# expect: LINE:COL: fragment` line at the top"
        for exp in case.expected:
            assert exp.line >= 1 and exp.col >= 1 and exp.fragment.strip(), (case.name, exp)
            target = CORPUS / exp.file
            assert target.is_file(), f"{case.name}: expectation names a missing file {exp.file}"
            lines = target.read_bytes().decode("utf-8", errors="replace").splitlines() or [""]
            assert exp.line <= len(lines), (case.name, exp)
            line = lines[exp.line - 1]
            assert exp.col <= len(line) + 1, (case.name, exp)
            # Replacing the port must not move the expected place.
            assert PLACEHOLDER not in line[: exp.col - 1], (case.name, exp)
        if case.is_bench:
            assert all(exp.file == case.name for exp in case.expected), case.name


# Load-time problems of the procedure file itself (a subset of the cases above): the file does not
# parse, or is refused while it is read (tags, aliases, duplicate keys, bytes that are not UTF-8).
LOAD_TIME_CASES = [
    "01_yaml_bad_indent.yaml",
    "03_yaml_tab.yaml",
    "04_python_tag.yaml",
    "05_alias_to_a_step.yaml",
    "06_alias_to_a_quantity.yaml",
    "07_duplicate_field.yaml",
    "50_not_utf8.yaml",
]


@pytest.mark.parametrize("name", LOAD_TIME_CASES)
def test_load_time_problems_print_like_every_other_problem(
    name: str, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A syntax error's line starts with its location, like the other problems (editors match on it)."""
    code, stderr = rig_in_process(capsys, "validate", str(corpus / name))
    assert code == 2, stderr
    assert stderr.startswith(f"{corpus / name}:"), stderr
    assert "error:" not in stderr, stderr


@pytest.mark.parametrize(
    ("written", "answer"), [("yes", "yes"), ("no", "no"), ("'yes'", "yes"), ("true", "yes")]
)
def test_an_unquoted_yes_answer_is_accepted(
    written: str, answer: str, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """YAML 1.1 reads a bare yes/no as a boolean; as a prompt's answer it means what it spells."""
    path = tmp_path / "yes_answer.yaml"
    path.write_text(
        "procedure: yes_answer\nversion: 1\nmain:\n"
        f"  - prompt: {{message: Seal repaired, expect: {written}}}\n"
    )
    code, stderr = rig_in_process(capsys, "validate", str(path), "--bench", str(corpus / "good_bench.yaml"))
    assert code == 0, stderr
    procedure = load_procedure(path, corpus / "good_bench.yaml")
    assert procedure.main[0].fields["expect"] == answer
