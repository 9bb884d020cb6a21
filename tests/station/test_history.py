"""The station's run history over HTTP: the same facts as the command line, and nothing written.

Two simulated runs are recorded once for the module (``rig run --sim``, sealed with the test
session's key); every test that alters a record alters a copy of the data directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from rig.cli import main
from rig.station.access import Access
from rig.station.history import PlotCache, history_routes
from tests.commands.cli_runs import rig_run_sim

ROOT = Path(__file__).resolve().parents[2]
PROCEDURE = ROOT / "procedures" / "pressure_decay.yaml"
TOKEN = "the-operators-token"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding two finished, sealed runs."""
    data = tmp_path_factory.mktemp("station-history") / "data"
    rig_run_sim(PROCEDURE, data, "--seed", "1")
    rig_run_sim(PROCEDURE, data, "--seed", "2")
    return data


def station(data: Path, *, open_reads: bool = True) -> TestClient:
    app = Starlette(routes=history_routes())
    app.state.access = Access(TOKEN, open_reads=open_reads)
    app.state.data_dir = data
    return TestClient(app)


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with station(data_dir) as c:
        yield c


@pytest.fixture
def copied(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the data directory (its index pointing at the copied run directories), to alter."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    with sqlite3.connect(copy / "runs.sqlite") as db:
        db.execute("UPDATE runs SET run_dir = replace(run_dir, ?, ?)", (str(data_dir), str(copy)))
    db.close()
    return copy


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def run_ids(data: Path) -> list[str]:
    with station(data) as c:
        return [r["run_id"] for r in c.get("/api/runs").json()]


def snapshot(run_dir: Path) -> dict[str, str]:
    """Every file of a run directory and the SHA-256 of its bytes."""
    return {
        p.relative_to(run_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file()
    }


def test_the_list_is_rig_runs_json(
    client: TestClient, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = client.get("/api/runs")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    listed = answer.json()
    assert len(listed) == 2
    assert listed == cli_json(capsys, "runs", "--data-dir", str(data_dir), "--json")


def test_one_run_is_rig_runs_show_json(
    client: TestClient, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for run_id in run_ids(data_dir):
        shown = client.get(f"/api/runs/{run_id}").json()
        assert shown == cli_json(capsys, "runs", "show", run_id, "--data-dir", str(data_dir), "--json")
        assert shown["run_id"] == run_id and shown["samples"] > 0 and shown["results"]["verdict"] == "PASS"


def test_a_run_still_running_is_shown_and_has_no_certificate(copied: Path) -> None:
    run_id = run_ids(copied)[0]
    with sqlite3.connect(copied / "runs.sqlite") as db:
        # This process is alive: the run reads as running, as one the station itself runs would.
        db.execute(
            "UPDATE runs SET status = 'running', ended = NULL, verdict = NULL, reason = NULL, pid = ?"
            " WHERE run_id = ?",
            (os.getpid(), run_id),
        )
    db.close()
    run_dir = copied / "runs" / run_id
    (run_dir / "results.json").unlink()
    with station(copied) as c:
        shown = c.get(f"/api/runs/{run_id}").json()
        assert shown["status"] == "running" and shown["results"] is None and shown["samples"] > 0
        refused = c.get(f"/runs/{run_id}/certificate.html")
        assert refused.status_code == 409 and "still running" in refused.text
        assert refused.headers["content-type"].startswith("text/plain")
        assert c.get(f"/api/runs/{run_id}/plot.png").status_code == 200


def test_the_plot_is_a_png_and_the_run_is_left_as_sealed(client: TestClient, data_dir: Path) -> None:
    run_id = run_ids(data_dir)[0]
    run_dir = data_dir / "runs" / run_id
    before = snapshot(run_dir)
    verified_before = client.get(f"/api/runs/{run_id}/verify").json()
    answer = client.get(f"/api/runs/{run_id}/plot.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get(f"/api/runs/{run_id}/plot.png").content == answer.content  # from the cache
    assert snapshot(run_dir) == before
    assert client.get(f"/api/runs/{run_id}/verify").json() == verified_before
    assert verified_before["ok"] is True


def test_the_plot_cache_keeps_the_newest_few(data_dir: Path) -> None:
    first, second = (data_dir / "runs" / run_id for run_id in run_ids(data_dir))
    cache = PlotCache(size=1)
    png = cache.png(first)
    assert cache.png(first) is png  # drawn once
    cache.png(second)
    assert cache.png(first) is not png  # pushed out by the other run, so drawn again
    assert cache.png(first) == png  # and the same drawing


def test_verify_says_what_rig_verify_prints(
    client: TestClient, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = run_ids(data_dir)[0]
    checked = client.get(f"/api/runs/{run_id}/verify").json()
    capsys.readouterr()
    assert main(["verify", str(data_dir / "runs" / run_id)]) == 0
    assert checked["lines"] == capsys.readouterr().out.splitlines()
    assert checked["ok"] is True and checked["lines"][0] == "OK"
    assert checked["signer"] is not None and "this rig's own key" in checked["signer"]


def test_a_tampered_record_shows_its_findings_and_gets_no_certificate(
    copied: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = run_ids(copied)[0]
    run_dir = copied / "runs" / run_id
    samples = run_dir / "samples.csv"
    samples.write_bytes(samples.read_bytes().replace(b"p_article", b"p_articlf", 1))
    with station(copied) as c:
        checked = c.get(f"/api/runs/{run_id}/verify").json()
        assert checked == {
            "ok": False,
            "lines": ["altered: samples.csv"],
            "signer": None,
            "public_key": checked["public_key"],
            "warnings": [],
        }
        capsys.readouterr()
        assert main(["verify", str(run_dir)]) == 1
        assert checked["lines"] == capsys.readouterr().out.splitlines()
        before = snapshot(run_dir)
        for kind in ("html", "pdf"):
            refused = c.get(f"/runs/{run_id}/certificate.{kind}")
            assert refused.status_code == 409
            assert refused.text.count("\n") == 0 and "altered: samples.csv" in refused.text
        assert snapshot(run_dir) == before


def test_the_certificate_is_rendered_without_writing_anything(client: TestClient, data_dir: Path) -> None:
    run_id = run_ids(data_dir)[0]
    run_dir = data_dir / "runs" / run_id
    before = snapshot(run_dir)
    html = client.get(f"/runs/{run_id}/certificate.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert run_id in html.text and "PASS" in html.text
    key = json.loads((run_dir / "manifest.json").read_text())["public_key"]
    assert key in html.text  # the key that verifies the seal is the one on the certificate
    pdf = client.get(f"/runs/{run_id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert snapshot(run_dir) == before
    assert client.get(f"/api/runs/{run_id}/verify").json()["ok"] is True


def test_a_certificate_the_record_holds_is_served_as_it_is(copied: Path) -> None:
    run_id = run_ids(copied)[0]
    run_dir = copied / "runs" / run_id
    assert main(["report", str(run_dir)]) == 0
    with station(copied) as c:
        assert (
            c.get(f"/runs/{run_id}/certificate.html").content == (run_dir / "certificate.html").read_bytes()
        )
        assert c.get(f"/runs/{run_id}/certificate.pdf").content == (run_dir / "certificate.pdf").read_bytes()


def test_the_record_files_are_served_read_only(client: TestClient, data_dir: Path) -> None:
    run_id = run_ids(data_dir)[0]
    run_dir = data_dir / "runs" / run_id
    names = client.get(f"/api/runs/{run_id}/files").json()
    assert names == sorted(p.name for p in run_dir.iterdir())
    answer = client.get(f"/runs/{run_id}/files/run.json")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert answer.content == (run_dir / "run.json").read_bytes()
    signature = client.get(f"/runs/{run_id}/files/manifest.sig")
    assert signature.headers["content-type"] == "application/octet-stream"
    assert signature.headers["x-content-type-options"] == "nosniff"
    for name in ("nothing.json", "%2e%2e", "..%2fruns.sqlite", "%2Fetc%2Fpasswd", "..%5Crun.json"):
        refused = client.get(f"/runs/{run_id}/files/{name}")
        assert refused.status_code == 404, name
        assert refused.headers["content-type"].startswith("text/plain")
    # Paths that leave the run directory match no route at all.
    assert client.get(f"/runs/{run_id}/files//etc/passwd").status_code == 404
    assert client.get(f"/runs/{run_id}/files/sub/run.json").status_code == 404


def test_a_symlink_in_the_record_is_not_followed(copied: Path) -> None:
    run_id = run_ids(copied)[0]
    run_dir = copied / "runs" / run_id
    secret = copied.parent / "secret.txt"
    secret.write_text("not the record's")
    (run_dir / "link.txt").symlink_to(secret)
    with station(copied) as c:
        assert c.get(f"/runs/{run_id}/files/link.txt").status_code == 404
        assert "link.txt" not in c.get(f"/api/runs/{run_id}/files").json()


def test_unknown_and_hostile_run_ids_are_404(client: TestClient, data_dir: Path) -> None:
    run_id = run_ids(data_dir)[0]
    # An id no run has, a prefix of one (an address names one run for good), and "..": the run's 404.
    for bad in ("20990101-000000-000000", run_id[:10], "%2e%2e", "%2E%2E"):
        for path in (f"/api/runs/{bad}", f"/api/runs/{bad}/plot.png", f"/api/runs/{bad}/verify"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert "no run" in answer.json()["error"], path
        for path in (f"/runs/{bad}/certificate.html", f"/runs/{bad}/files/run.json"):
            answer = client.get(path)
            assert answer.status_code == 404 and "no run" in answer.text, path
    # An id with a "/" in it, encoded or not, matches no route at all.
    for bad in ("..%2f..%2fruns.sqlite", "%2Fetc", "a/b", "%2e%2e%2f%2e%2e"):
        for path in (
            f"/api/runs/{bad}/verify",
            f"/runs/{bad}/certificate.html",
            f"/runs/{bad}/files/run.json",
        ):
            assert client.get(path).status_code == 404, path
    assert client.get(f"/api/runs/{run_id}/../../runs.sqlite").status_code == 404


def test_a_damaged_record_is_one_line_409(copied: Path) -> None:
    run_id = run_ids(copied)[0]
    (copied / "runs" / run_id / "run.json").write_text("{not json")
    with station(copied) as c:
        answer = c.get(f"/api/runs/{run_id}")
        assert answer.status_code == 409
        error = answer.json()["error"]
        assert "run.json" in error and "\n" not in error


def test_reads_need_the_token_unless_open(data_dir: Path) -> None:
    run_id = run_ids(data_dir)[0]
    paths = [
        "/api/runs",
        f"/api/runs/{run_id}",
        f"/api/runs/{run_id}/verify",
        f"/api/runs/{run_id}/files",
        f"/runs/{run_id}/files/run.json",
        "/runs",
        f"/runs/{run_id}",
    ]
    with station(data_dir, open_reads=False) as c:
        for path in paths:
            assert c.get(path).status_code == 401, path
            assert c.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401, path
            assert c.get(path, params={"token": "wrong"}).status_code == 401, path
            assert c.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200, path
            assert c.get(path, params={"token": TOKEN}).status_code == 200, path


def test_the_pages_are_served_and_insert_record_data_as_text(client: TestClient, data_dir: Path) -> None:
    run_id = run_ids(data_dir)[0]
    runs = client.get("/runs")
    assert runs.status_code == 200 and 'data-testid="runs-table"' in runs.text
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    for testid in ("run-verdict", "run-plot", "verify-status", "certificate-link"):
        assert f'data-testid="{testid}"' in page.text
    static = ROOT / "rig" / "station" / "static"
    for script in ("history.js", "runs.js", "run.js"):
        source = (static / script).read_text()
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source, script
        assert f'src="/static/{script}"' in runs.text + page.text
