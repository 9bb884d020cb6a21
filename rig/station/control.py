"""The station's bench: its procedures, and the one run at a time started, watched and stopped from the page.

A run goes through :func:`rig.commands.run.launch`, the assembly ``rig run`` uses, in a thread of
its own: the record, its seal, the calibration check, the bench lock and the safe state are the
same, and so is the record (the station adds its feed as an observer, answers prompts through its
broker, and says in ``run.json`` and the events where the run was started from).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rig.errors import InputError
from rig.station.feed import RunFeed
from rig.station.hub import Hub
from rig.station.prompts import PromptBroker
from rig.station.refusal import StationError

if TYPE_CHECKING:
    from rig.bench import BenchSpec
    from rig.config import Config
    from rig.engine.runner import Runner
    from rig.procedure.loader import Procedure

# How long a start may take to open the bench's instruments before the page is told it failed.
START_TIMEOUT_S = 60.0


@dataclass
class ActiveRun:
    """The run going now: its thread, its feed, and (once begun) its runner."""

    feed: RunFeed
    thread: threading.Thread | None = None
    begun: threading.Event = field(default_factory=threading.Event)
    runner: Runner | None = None
    error: str | None = None  # why it could not begin


@dataclass
class StationSettings:
    """What ``rig station`` was started with."""

    bench_path: Path
    sim: bool
    data_dir: Path
    operator: str
    speed: float | None = None
    visa_library: str | None = None
    config: Config | None = None


class Station:
    """One bench, one run at a time; every page watches ``hub``."""

    def __init__(self, settings: StationSettings, bench: BenchSpec, broker: PromptBroker) -> None:
        self.settings = settings
        self.bench = bench
        self.hub = Hub()
        self.broker = broker
        self._lock = threading.Lock()
        self.active: ActiveRun | None = None
        self.last: RunFeed | None = None  # the latest run's feed, kept after it ends

    # --- procedures ------------------------------------------------------------------------------

    @property
    def roots(self) -> list[Path]:
        """Where the bench's procedures are looked for: beside the bench's folder, then in it."""
        folder = self.settings.bench_path.resolve().parent
        return [folder.parent, folder] if folder.name == "benches" else [folder, folder.parent]

    def procedures(self) -> list[dict[str, str]]:
        """The procedure files that name this bench (path relative to its root, name, description)."""
        found: list[dict[str, str]] = []
        bench = self.settings.bench_path.resolve()
        for root in self.roots:
            for path in sorted(root.glob("*.yaml")):
                about = _procedure_about(path, bench)
                if about is not None:
                    found.append({"path": str(path.relative_to(root)), **about})
        return found

    def resolve(self, given: str) -> Path:
        """The procedure file ``given`` names: absolute, or relative to the bench's procedures."""
        if not given or "\x00" in given:
            raise StationError(400, "give the procedure's path")
        path = Path(given)
        if path.suffix not in (".yaml", ".yml"):
            raise StationError(400, f"{given!r} is not a procedure file (.yaml)")
        if path.is_absolute():
            candidates = [path]
        else:
            # A relative path stays among the bench's procedures ("../" does not climb out).
            candidates = [
                root / path for root in self.roots if (root / path).resolve().is_relative_to(root.resolve())
            ]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise StationError(404, f"no procedure {given!r} among the bench's procedures ({self.roots[0]})")

    # --- runs ------------------------------------------------------------------------------------

    def start(
        self,
        given: str,
        *,
        seed: int | None,
        speed: float | None,
        sim: bool | None,
        origin: str,
        operator: str | None,
        article: tuple[str | None, str | None] = (None, None),
    ) -> str | None:
        """Start the procedure ``given``; return the run's id once it has begun (None: not recorded).

        ``article`` is the part and serial number of what is tested (recorded in run.json).

        Refused (:class:`StationError`) while a run goes on, for a procedure that does not
        validate or is not for this bench, or when the bench could not be opened.
        """
        from rig.commands.bench_access import check_simulation_arguments
        from rig.procedure.loader import ProcedureInvalid, load_procedure

        simulate = self.settings.sim if sim is None else sim
        if self.settings.sim and not simulate:
            raise StationError(400, "this station runs simulations only (it was started with --sim)")
        path = self.resolve(given)
        try:
            check_simulation_arguments(speed, seed)
            procedure = load_procedure(path, self.settings.bench_path)
        except ProcedureInvalid as exc:
            raise StationError(400, str(exc.problems[0]) if exc.problems else str(exc)) from None
        except InputError as exc:
            raise StationError(400, str(exc)) from None
        with self._lock:
            if self.active is not None:
                raise StationError(409, "a run is going on: stop it, or wait for its verdict")
            feed = RunFeed(self.hub, _header(procedure, path, simulate, seed, origin), _limits(procedure))
            active = ActiveRun(feed)
            active.thread = thread = threading.Thread(
                target=self._run,
                args=(active, procedure, seed, speed, simulate, origin, operator, article),
                name="station-run",
            )
            self.active = active
            self.broker.reset()
            self.broker.feed = feed
            thread.start()
        if not active.begun.wait(START_TIMEOUT_S):
            raise StationError(504, f"the bench did not open within {START_TIMEOUT_S:g} s")
        if active.error is not None:
            raise StationError(409, active.error)
        return feed.run_id

    def _run(
        self,
        active: ActiveRun,
        procedure: Procedure,
        seed: int | None,
        speed: float | None,
        sim: bool,
        origin: str,
        operator: str | None,
        article: tuple[str | None, str | None],
    ) -> None:
        from rig.commands.run import RunOptions, launch

        def begun(runner: Runner, run_id: str | None) -> None:
            active.runner = runner
            active.feed.begin(run_id)
            # The runner's thread, before the first step: the record keeps who started the run.
            runner.event("operator", f"run started from {origin}", origin=origin)
            active.begun.set()

        options = RunOptions(
            sim=sim,
            seed=seed,
            speed=speed if speed is not None else self.settings.speed,
            data_dir=self.settings.data_dir,
            operator=operator or self.settings.operator,
            visa_library=self.settings.visa_library,
            config=self.settings.config,
            answer=self.broker,
            observers=(active.feed,),
            on_start=begun,
            started_from=origin,
            part=article[0],
            serial=article[1],
        )
        try:
            launched = launch(procedure, options)
            executed = launched.executed
            if not executed.started:
                active.error = executed.outcome.reason
            for problem in executed.record_problems:
                active.feed.event(0.0, "error", f"record: {problem}")
        except InputError as exc:
            active.error = str(exc)
        except Exception as exc:  # reported to the page; the run's own faults end in its safe state
            active.error = f"the run could not go on: {exc!r}"
        finally:
            if active.error is not None and not active.begun.is_set():
                self.hub.post({"type": "start_failed", "error": active.error})
            active.begun.set()
            with self._lock:
                self.last = active.feed
                if self.active is active:
                    self.active = None
                self.broker.feed = None

    def stop(self, origin: str) -> int:
        """Ask the run going on to stop (the first stop is graceful, the second immediate)."""
        with self._lock:
            active = self.active
        runner = None if active is None else active.runner
        if runner is None:
            raise StationError(409, "no run is going on")
        runner.request_stop(f"stop from {origin}")
        assert active is not None  # it has a runner
        self.hub.post(
            {"type": "stop_requested", "run_id": active.feed.run_id, "stops": runner.stops, "origin": origin}
        )
        return runner.stops

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the run going on (if any) to end; False if it still goes on after ``timeout_s``."""
        active = self.active
        thread = None if active is None else active.thread
        if thread is None:
            return True
        thread.join(timeout_s)
        return not thread.is_alive()

    def live(self) -> dict[str, Any]:
        """The run going on (or the last one) as a page opened now first sees it."""
        active = self.active
        feed = active.feed if active is not None else self.last
        return {"active": active is not None, **({} if feed is None else feed.state())}


def _procedure_about(path: Path, bench: Path) -> dict[str, str] | None:
    """The name and description of the procedure at ``path`` if it names ``bench``; None otherwise."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return None  # not a procedure this page can offer; `rig validate` says why
    if not isinstance(doc, dict):
        return None
    named = doc.get("bench")
    if not isinstance(named, str) or (path.parent / named).resolve() != bench:
        return None
    return {"name": str(doc.get("procedure", path.stem)), "description": str(doc.get("description", ""))}


def _header(procedure: Procedure, path: Path, sim: bool, seed: int | None, origin: str) -> dict[str, Any]:
    """What a page is told of a run when it begins."""
    bench = procedure.bench

    def listed(steps: Any) -> list[dict[str, str]]:
        return [{"label": step.label, "kind": step.kind} for step in steps]

    return {
        "procedure": procedure.name,
        "procedure_path": str(path),
        "description": procedure.description,
        "bench": bench.name,
        "sim": sim,
        "seed": seed,
        "started_from": origin,
        "sample_period_s": procedure.sample_period_s,
        "channels": [
            {"name": name, "measures": spec.measures, "volume": spec.volume}
            for name, spec in bench.channels.items()
        ],
        "steps": {
            "setup": listed(procedure.setup),
            "main": listed(procedure.main),
            "cleanup": listed(procedure.cleanup),
        },
        "measurements": {
            name: {"limit_pa_m3_s": limit, "channel": channel}
            for name, (limit, channel) in _measuring(procedure).items()
        },
    }


def _measuring(procedure: Procedure) -> dict[str, tuple[float | None, str | None]]:
    """Each measurement's name → its limit (Pa·m³/s, None without one) and channel, as its step says."""
    from rig.steps.base import walk

    found: dict[str, tuple[float | None, str | None]] = {}
    for step in walk((*procedure.setup, *procedure.main, *procedure.cleanup)):
        name = getattr(step, "name", None)
        if isinstance(name, str) and hasattr(step, "limit_pa_m3_s"):
            limit = getattr(step, "limit_pa_m3_s", None)
            channel = getattr(step, "channel", None)
            found[name] = (
                float(limit) if isinstance(limit, int | float) else None,
                channel if isinstance(channel, str) else None,
            )
    return found


def _limits(procedure: Procedure) -> dict[str, float | None]:
    return {name: limit for name, (limit, _channel) in _measuring(procedure).items()}
