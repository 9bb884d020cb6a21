"""A lab's plugin, as a distribution of its own: installed, used in simulation, uninstalled.

``tests/plugins/demo_plugin`` is what a lab would publish: a pyproject with entry points in
``leakrig.instruments`` (the DG-2 gauge controller: driver, model, simulated server) and
``leakrig.steps`` (``pressure_hold``). The test builds it in a temporary directory, installs it
into this test environment with pip, and uses it through the CLI in child processes (the
registries are filled when a process first imports them): ``rig plugins`` lists it, a bench
names its model, ``rig instruments probe --sim`` reads it, ``rig run --sim`` runs a procedure
with its step on its instrument. Uninstalled, ``rig plugins`` is as it was.

A plugin that cannot load (``tests/plugins/broken_plugin``) is installed into a directory of
its own on PYTHONPATH (so that other tests running alongside never see it): it is one line in
``rig plugins``, and every other model and step still works.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BENCH = ROOT / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
DEMO = "leakrig-demo-plugin"
TIMEOUT_S = 300


def rig(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``rig ARGV`` in a child process (a fresh process loads the entry points afresh)."""
    return subprocess.run(
        [sys.executable, "-m", "rig", *argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
        env=env,
    )


def pip(*argv: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *argv],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def install(source: Path, tmp_path: Path, *target: str) -> None:
    """Build and install the distribution at ``source`` (copied: the build leaves files behind)."""
    build = tmp_path / source.name
    shutil.copytree(source, build)
    pip("install", "--no-deps", "--no-build-isolation", "--no-index", *target, str(build))


def plugins(env: dict[str, str] | None = None) -> tuple[int, list[dict[str, Any]]]:
    done = rig("plugins", "--json", env=env)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def demo_bench(tmp_path: Path) -> Path:
    """The mockup bench with its TPG 362 replaced by a DG-2 (two channels as well)."""
    text = BENCH.read_text()
    assert "gauges: {model: TPG362}" in text
    path = tmp_path / "dg2_bench.yaml"
    path.write_text(text.replace("gauges: {model: TPG362}", "gauges: {model: DG-2}"))
    return path


def demo_procedure(tmp_path: Path) -> Path:
    path = tmp_path / "hold.yaml"
    path.write_text(
        "procedure: dg2_hold\nversion: 1\nsample_period: 1 s\n"
        "setup:\n  - set_valves: {valves: {vent: closed, pump: closed, reference: closed}}\n"
        "main:\n"
        "  - set_valves: {valves: {article: open}}\n"
        "  - fill: {volume: article, to: 2 bar, tolerance: 50 mbar, timeout: 5 min, through: supply,"
        " channel: p_article}\n"
        "  - isolate: {volume: article}\n"
        "  - pressure_hold: {name: held, channel: p_article, duration: 30 s, max_change: 10 kPa}\n"
        "cleanup:\n  - set_valves: {valves: {supply: closed, pump: closed, vent: open, article: open}}\n"
    )
    return path


def test_a_plugin_distribution_installs_runs_in_simulation_and_uninstalls_clean(tmp_path: Path) -> None:
    code, before = plugins()
    assert code == 0 and all(item["ok"] for item in before), before
    assert not [item for item in before if item["source"] == DEMO]

    install(HERE / "demo_plugin", tmp_path)
    try:
        code, listed = plugins()
        assert code == 0, listed
        mine = {item["name"]: item for item in listed if item["source"] == DEMO}
        assert mine["DG-2"] == {
            "name": "DG-2",
            "kind": "instrument",
            "source": DEMO,
            "ok": True,
            "entry_point": "demo-gauge = leakrig_demo.models:MODELS",
            "model_kind": "gauge",
            "simulated": True,
        }
        assert mine["pressure_hold"]["kind"] == "step" and mine["pressure_hold"]["ok"] is True
        # Ours are still all there, from our own distribution.
        assert {i["name"] for i in before} <= {i["name"] for i in listed if i["source"] == "leakrig"}

        # Editors complete and check the plugin's step like ours.
        schema = rig("schema")
        assert schema.returncode == 0, schema.stderr
        definitions = json.loads(schema.stdout)["$defs"]
        assert "pressure_hold" in json.dumps(definitions) and "measure_decay" in json.dumps(definitions)

        bench, procedure = demo_bench(tmp_path), demo_procedure(tmp_path)
        validated = rig("validate", str(procedure), "--bench", str(bench))
        assert validated.returncode == 0, validated.stderr

        probed = rig("instruments", "probe", "--sim", "--bench", str(bench), "--json")
        assert probed.returncode == 0, probed.stderr
        gauges = json.loads(probed.stdout)["gauges"]
        assert gauges["model"] == "DG-2" and gauges["identity"] == "Demo Instruments,DG-2,0001,1.0"
        for channel in ("p_chamber", "p_article"):
            reading = gauges["readings"][channel]
            assert reading["unit"] == "Pa" and abs(reading["value"] - 101325.0) < 3000.0, reading

        data = tmp_path / "data"
        ran = rig(
            "run", str(procedure), "--bench", str(bench), "--sim", "--seed", "3",
            "--data-dir", str(data), "--yes", "--json",
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        summary = json.loads(ran.stdout.strip().splitlines()[-1])
        assert summary["verdict"] == "PASS"
        held = summary["measurements"]["held"]
        assert held["outcome"] == "PASS"
        run_dir = Path(summary["run_dir"])
        # The record keeps the plugin's instrument as it answered, and verifies like any other.
        run_json = json.loads((run_dir / "run.json").read_text())
        assert run_json["identities"]["gauges"] == "Demo Instruments,DG-2,0001,1.0"
        assert run_json["settings"]["gauges"] == {"unit": "PA"}
        verified = rig("verify", str(run_dir))
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        pip("uninstall", "-y", DEMO)

    code, after = plugins()
    assert code == 0 and after == before
    assert "pressure_hold" not in rig("schema").stdout
    gone = rig("validate", str(demo_procedure(tmp_path)), "--bench", str(demo_bench(tmp_path)))
    assert gone.returncode == 2
    assert "unknown model 'DG-2'" in gone.stderr or "'DG-2' is not one of" in gone.stderr, gone.stderr


def test_a_plugin_that_cannot_load_is_one_line_and_stops_nothing(tmp_path: Path) -> None:
    target = tmp_path / "site"
    install(HERE / "broken_plugin", tmp_path, "--target", str(target))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")])),
    }

    code, listed = plugins(env)
    assert code == 1
    broken = {item["name"]: item for item in listed if not item["ok"]}
    assert set(broken) == {"broken-gauge", "clash-gauge", "not-a-model", "GhostGauge", "clash-step"}
    assert all(
        item["source"] == "leakrig-broken-plugin" and "\n" not in item["error"] for item in broken.values()
    )
    assert "nidaqmx" in broken["broken-gauge"]["error"]
    assert "declared twice: TPG362" in broken["clash-gauge"]["error"]
    assert "expected an InstrumentModel or a list/tuple of them, got dict" in broken["not-a-model"]["error"]
    assert "'leakrig_ghost_driver:Ghost' cannot be imported" in broken["GhostGauge"]["error"]
    assert broken["clash-step"]["kind"] == "step" and "fill" in broken["clash-step"]["error"]
    # Ours are whole and still ours.
    ours = {item["name"] for item in listed if item["ok"] and item["source"] == "leakrig"}
    assert {"TPG362", "DAQ970A", "measure_decay", "fill"} <= ours

    # Everything else works; the broken plugin is one warning line on stderr.
    validated = rig("validate", str(ROOT / "procedures" / "pressure_decay.yaml"), env=env)
    assert validated.returncode == 0, validated.stderr
    warnings = validated.stderr.splitlines()
    assert len(warnings) == 4, warnings  # one a broken entry point (the ghost loads, and is unused)
    assert len([line for line in warnings if "broken-gauge" in line and "nidaqmx" in line]) == 1

    # The ghost's driver is missing: a run on a bench naming it stops before it starts, in one line.
    ghost = tmp_path / "ghost.yaml"
    ghost.write_text(
        BENCH.read_text().replace("baratron: {model: MKS937B, address: 253}", "baratron: {model: GhostGauge}")
    )

    # A bench naming a model the broken plugin might have brought says so.
    bench = tmp_path / "bench.yaml"
    bench.write_text(BENCH.read_text().replace("gauges: {model: TPG362}", "gauges: {model: NI-9208}"))
    refused = rig(
        "validate", str(ROOT / "procedures" / "pressure_decay.yaml"), "--bench", str(bench), env=env
    )
    assert refused.returncode == 2
    (line,) = [ln for ln in refused.stderr.splitlines() if "NI-9208" in ln]
    assert "broken-gauge" in line and "rig plugins" in line and line.startswith(str(bench))
    probed = rig("instruments", "probe", "--sim", "--bench", str(ghost), "--json", env=env)
    assert probed.returncode == 3, probed.stderr
    assert "'leakrig_ghost_driver:Ghost' cannot be imported" in json.loads(probed.stdout)["baratron"]["error"]
