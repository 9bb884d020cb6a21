"""The operator station in a real browser: Debian's headless Chromium, driven by Playwright.

One simulated ``seal_repair_certification`` is started from the page of a real ``rig station``
(a subprocess, as an operator starts it): the trace grows, the prompt is confirmed in the page, the
verdict turns PASS, the certificate opens, and a second, read-only tab sees the same run live.
Each stage's screenshot is kept in ``$LEAKRIG_SCREENSHOTS`` (default: the test's temporary
directory). The record the page made is then compared with the one ``rig run`` makes of the same
seed: the same samples, results and events, but for who answered the prompt, from where.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rig.testing.conformance import wait_until
from tests.commands.cli_runs import rig_run_sim
from tests.station.station_process import ROOT, StationProcess

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("LEAKRIG_CHROMIUM", "/usr/bin/chromium")
# As the machine's probe starts it: no sandbox as root, and no background calls to the internet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROCEDURE = "seal_repair_certification.yaml"
SEED = 3
RUN_TIMEOUT_S = 90.0

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's package, which ``.ci/run`` installs)."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) as .ci/run"
        )
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where this test's screenshots go."""
    base = os.environ.get("LEAKRIG_SCREENSHOTS")
    folder = Path(base) if base else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def points(page: Any) -> int:
    """How many samples the page's trace holds."""
    return int(page.get_by_test_id("trace").get_attribute("data-points") or 0)


def growing(page: Any, until: Any, timeout_s: float) -> list[int]:
    """The trace's sizes seen while waiting for ``until(page)``: the page must show them grow."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout_s
    while not until(page):
        assert time.monotonic() < deadline, f"the page never got there; trace sizes seen: {seen[-10:]}"
        count = points(page)
        if not seen or count != seen[-1]:
            seen.append(count)
        page.wait_for_timeout(50)
    return seen


def test_a_seal_repair_certified_from_the_page(browser: Any, tmp_path: Path, shots: Path) -> None:
    data = tmp_path / "data"
    with StationProcess(data) as station:
        operator_tab = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        errors: list[str] = []
        operator_tab.on("pageerror", lambda exc: errors.append(str(exc)))
        operator_tab.goto(f"{station.url}/?token={station.token}")
        # The token stays in the tab, out of the address bar.
        wait_until(lambda: "token" not in operator_tab.url)
        operator_tab.get_by_test_id("rights").filter(has_text="operator").wait_for()
        operator_tab.get_by_test_id("procedure").select_option(PROCEDURE)
        operator_tab.get_by_test_id("seed").fill(str(SEED))
        operator_tab.get_by_test_id("operator").fill("A. Tester")
        operator_tab.get_by_test_id("part").fill("PrK-hatch-seal")
        operator_tab.get_by_test_id("serial").fill("SN-0042")
        operator_tab.screenshot(path=shots / "01-ready.png", full_page=True)
        operator_tab.get_by_test_id("start").click()

        prompt_button = operator_tab.get_by_test_id("prompt-answer")
        before = growing(operator_tab, lambda page: prompt_button.is_visible(), RUN_TIMEOUT_S)
        assert len(before) >= 3 and before == sorted(before) and before[-1] > 1000, before
        assert operator_tab.get_by_test_id("verdict").inner_text() == "running"
        rate = operator_tab.get_by_test_id("leak-rate").inner_text()
        assert rate.startswith("before_repair:") and "sccm" in rate, rate
        operator_tab.screenshot(path=shots / "02-prompt.png", full_page=True)

        # A second tab, without the token: the same run, live, read-only.
        viewer = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        viewer.goto(f"{station.url}/")
        viewer.get_by_test_id("prompt-message").filter(has_text="Repair the article").wait_for()
        assert viewer.get_by_test_id("rights").inner_text() == "read-only"
        assert not viewer.get_by_test_id("prompt-answer").is_visible()
        assert not viewer.get_by_test_id("start").is_visible()
        run_title = operator_tab.get_by_test_id("run-title").inner_text()
        assert viewer.get_by_test_id("run-title").inner_text() == run_title
        wait_until(lambda: points(viewer) >= before[-1])  # caught up from the record
        refused = viewer.evaluate(
            "async () => (await fetch('/api/prompts/1', {method: 'POST', body: '{\"answer\": \"yes\"}'}))"
            ".status"
        )
        assert refused == 401
        viewer.screenshot(path=shots / "03-second-tab-read-only.png", full_page=True)

        prompt_button.click()
        verdict = operator_tab.get_by_test_id("verdict")
        after = growing(operator_tab, lambda page: verdict.inner_text() != "running", RUN_TIMEOUT_S)
        assert len(after) >= 3 and after == sorted(after) and after[0] >= before[-1], after
        assert verdict.inner_text() == "PASS", operator_tab.get_by_test_id("reason").inner_text()
        assert operator_tab.get_by_test_id("leak-rate").inner_text().startswith("after_repair:")
        operator_tab.screenshot(path=shots / "04-pass.png", full_page=True)

        viewer.get_by_test_id("verdict").filter(has_text="PASS").wait_for()
        # Both tabs end with every sample the record holds (each redraws a quarter second later).
        recorded = (
            len((data / "runs" / run_title.rsplit("run ", 1)[1] / "samples.csv").read_text().splitlines()) - 1
        )
        wait_until(lambda: points(viewer) == recorded and points(operator_tab) == recorded)
        viewer.screenshot(path=shots / "05-second-tab-pass.png", full_page=True)

        with operator_tab.context.expect_page() as opened:
            operator_tab.get_by_test_id("certificate-link").click()
        certificate = opened.value
        certificate.wait_for_load_state()
        text = certificate.inner_text("body")
        run_id = run_title.rsplit("run ", 1)[1]
        assert "PASS" in text and run_id in text
        certificate.screenshot(path=shots / "06-certificate.png", full_page=True)

        # The run's page (from the live page's link, the token carried along): plot, verdict, seal.
        operator_tab.get_by_test_id("run-link").click()
        operator_tab.get_by_test_id("verify-status").filter(has_text="verified").wait_for()
        assert operator_tab.get_by_test_id("run-verdict").inner_text() == "PASS"
        wait_until(lambda: operator_tab.evaluate("document.getElementById('run-plot').naturalWidth") > 0)
        operator_tab.screenshot(path=shots / "07-run-page.png", full_page=True)
        operator_tab.goto(f"{station.url}/runs")
        operator_tab.locator(f'[data-testid="run-row"][data-run-id="{run_id}"]').wait_for()
        operator_tab.screenshot(path=shots / "08-runs.png", full_page=True)
        assert errors == []
    page_run = data / "runs" / run_id
    assert station.stop() == 0, station.stderr
    answered = [e for e in _events(page_run) if e["kind"] == "prompt"]
    assert answered[0]["answered_by"] == "A. Tester" and answered[0]["origin"] == "station (client 127.0.0.1)"
    _same_record(page_run, tmp_path / "cli")


def _events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def _same_record(page_run: Path, cli_data: Path) -> None:
    """``rig run`` of the same procedure and seed records what the page's run recorded."""
    _result, cli_run = rig_run_sim(ROOT / "procedures" / PROCEDURE, cli_data, "--seed", str(SEED))
    assert (page_run / "samples.csv").read_bytes() == (cli_run / "samples.csv").read_bytes()
    assert (page_run / "procedure.yaml").read_bytes() == (cli_run / "procedure.yaml").read_bytes()
    page_results = json.loads((page_run / "results.json").read_text())
    cli_results = json.loads((cli_run / "results.json").read_text())
    assert page_results == cli_results

    # The events differ only in who started the run and who answered its prompt, from where.
    def plain(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [
            e for e in events if not (e["kind"] == "operator" and e["message"].startswith("run started from"))
        ]
        who = ("answered_by", "origin", "answered_at")
        return [{k: v for k, v in e.items() if not (e["kind"] == "prompt" and k in who)} for e in kept]

    assert plain(_events(page_run)) == plain(_events(cli_run))
    page_info = json.loads((page_run / "run.json").read_text())
    cli_info = json.loads((cli_run / "run.json").read_text())
    differ = {k for k in page_info.keys() | cli_info.keys() if page_info.get(k) != cli_info.get(k)}
    assert differ <= {"run_id", "started", "started_from", "operator", "identities", "article"}, differ
    assert page_info["article"] == {"part": "PrK-hatch-seal", "serial": "SN-0042"}
    assert (
        page_info["started_from"] == "station (client 127.0.0.1)"
        and cli_info["started_from"] == "command line"
    )


def test_a_pump_down_is_read_on_a_log_axis(browser: Any, tmp_path: Path, shots: Path) -> None:
    with StationProcess(tmp_path / "data") as station:
        page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
        page.goto(f"{station.url}/?token={station.token}")
        page.get_by_test_id("rights").filter(has_text="operator").wait_for()
        assert page.get_by_test_id("axis").inner_text() == "log axis"  # linear until the data say
        page.get_by_test_id("procedure").select_option("rate_of_rise.yaml")
        page.get_by_test_id("start").click()
        # From the atmosphere to below 1 Pa: five decades, so the axis turns logarithmic by itself.
        page.get_by_test_id("axis").filter(has_text="linear axis").wait_for(timeout=RUN_TIMEOUT_S * 1000)
        page.get_by_test_id("verdict").filter(has_text="PASS").wait_for(timeout=RUN_TIMEOUT_S * 1000)
        page.screenshot(path=shots / "09-pump-down-log-axis.png", full_page=True)
