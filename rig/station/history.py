"""The station's run history: the run list, one run's page, its plot, its verification, its certificate.

Everything here only reads the data directory: the plot is drawn in memory (a run directory is
sealed, and any file added to it would show in ``rig verify``), and a certificate the record does
not hold is rendered on the fly and never written. The JSON is what the command line prints:
``GET /api/runs`` is ``rig runs --json``, ``GET /api/runs/ID`` is ``rig runs show ID --json``,
``GET /api/runs/ID/verify`` holds the lines ``rig verify`` prints (``GET /api/runs/ID/files``
lists the record's files, which ``/runs/ID/files/NAME`` serves as they are). A run is named by its whole id
(as the run list gives it), never a prefix, so that a page's address always means the same run.

Every route asks :meth:`rig.station.access.Access.require_viewer` first. A refusal is one line:
``{"error": ...}`` under ``/api``, plain text for the pages' links (certificate, record files).
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from io import BytesIO
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from rig.errors import InputError
from rig.record.run_store import RunStore, RunSummary
from rig.station.access import Access
from rig.station.refusal import StationError

STATIC = Path(__file__).resolve().parent / "static"
TEXT_SUFFIXES = frozenset({".json", ".jsonl", ".csv", ".yaml", ".txt"})
PLOT_CACHE_SIZE = 8  # a run's plot is ~100 kB; a handful covers the runs being looked at
PLOT_DPI = 120  # as `rig runs show --plot` draws it
# The certificate is self-contained (CSS inline, plots as data URIs): it needs nothing else, and
# a stored one is served with nothing else allowed, whoever wrote it.
CERTIFICATE_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

Handler = Callable[[Request], Awaitable[Response]]


def _answering(as_json: bool) -> Callable[[Handler], Handler]:
    """Wrap a handler so that a reader's refusal is one line (JSON or text), never a traceback."""

    def wrap(handler: Handler) -> Handler:
        async def answer(request: Request) -> Response:
            access: Access = request.app.state.access
            access.require_viewer(request)
            try:
                return await handler(request)
            except StationError as refused:
                status, message = refused.status, refused.message
            except InputError as exc:
                # A damaged index or record: the data is there but not what it should be.
                status, message = 409, str(exc)
            except OSError as exc:
                status, message = 500, f"cannot read {exc.filename or 'the record'}: {exc.strerror or exc}"
            if as_json:
                return JSONResponse({"error": message}, status_code=status)
            return PlainTextResponse(message, status_code=status)

        return answer

    return wrap


def _store(request: Request) -> RunStore:
    return RunStore(request.app.state.data_dir)


def _find(store: RunStore, run_id: str) -> RunSummary:
    """The run whose id is exactly ``run_id`` (404 if none: a prefix names no run here)."""
    for summary in store.runs():
        if summary.run_id == run_id:
            return summary
    raise StationError(404, f"no run {run_id!r} in {store.data_dir}")


async def _summary(request: Request) -> RunSummary:
    store = _store(request)
    return await run_in_threadpool(_find, store, request.path_params["run_id"])


# --- JSON ----------------------------------------------------------------------------------------


@_answering(as_json=True)
async def list_runs(request: Request) -> Response:
    """``GET /api/runs``: every run, newest first, as ``rig runs --json`` lists them."""
    runs = await run_in_threadpool(_store(request).runs)
    return _json([asdict(r) for r in runs])


@_answering(as_json=True)
async def show_run(request: Request) -> Response:
    """``GET /api/runs/{run_id}``: the object ``rig runs show ID --json`` prints (a running run too)."""
    from rig.commands.runs import run_detail

    summary = await _summary(request)
    _, detail = await run_in_threadpool(run_detail, summary)
    return _json(detail)


def _json(value: object) -> Response:
    # json.dumps as the command line prints it (a NaN stays NaN), so both say the same bytes.
    return Response(json.dumps(value), media_type="application/json")


@_answering(as_json=True)
async def verify(request: Request) -> Response:
    """``GET /api/runs/{run_id}/verify``: ``{"ok", "lines", "signer", "public_key", "warnings"}``,
    ``lines`` as ``rig verify`` prints them."""
    from rig.commands.verify import verification

    summary = await _summary(request)
    checked = await run_in_threadpool(verification, summary.run_dir)
    return _json(
        {
            "ok": checked.ok,
            "lines": checked.lines,
            "signer": None if checked.signer is None else checked.signer.describe(),
            "public_key": checked.public_key,
            "warnings": checked.warnings,
        }
    )


# --- the plot ------------------------------------------------------------------------------------


class PlotCache:
    """The last few plots drawn, by run directory and the state of its samples (a running run's
    plot is drawn again once more samples are in)."""

    def __init__(self, size: int = PLOT_CACHE_SIZE) -> None:
        self._size = size
        self._plots: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        # matplotlib's font and text caches are shared by every figure: one drawing at a time.
        self._drawing = threading.Lock()

    def png(self, run_dir: Path) -> bytes:
        """The run's plot as PNG bytes, drawn in memory (nothing is written to the run directory)."""
        from rig.record.run_record import RunRecord
        from rig.record.run_writer import SAMPLES
        from rig.report.run_plot import draw_run

        try:
            st = (run_dir / SAMPLES).stat()
        except FileNotFoundError:
            raise StationError(409, f"run {run_dir.name} has no samples to draw") from None
        key = (str(run_dir), st.st_mtime_ns, st.st_size)
        with self._lock:
            if key in self._plots:
                self._plots.move_to_end(key)
                return self._plots[key]
        with self._drawing:
            figure = draw_run(RunRecord.load(run_dir, finished=False))
            out = BytesIO()
            figure.savefig(out, format="png", dpi=PLOT_DPI)
        png = out.getvalue()
        with self._lock:
            self._plots[key] = png
            while len(self._plots) > self._size:
                self._plots.popitem(last=False)
        return png


PLOTS = PlotCache()


@_answering(as_json=True)
async def plot(request: Request) -> Response:
    """``GET /api/runs/{run_id}/plot.png``: the run as ``rig runs show --plot`` draws it."""
    summary = await _summary(request)
    png = await run_in_threadpool(PLOTS.png, Path(summary.run_dir))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-cache"})


# --- the certificate and the record's files ------------------------------------------------------


def _read_record_file(run_dir: Path, name: str) -> bytes | None:
    """The bytes of the plain file ``name`` directly in ``run_dir``; None if there is no such file.

    ``name`` must be an entry of the directory's listing (so no ``..``, no ``/``), and a
    regular file itself: a symlink is never followed, wherever it points.
    """
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
        return None
    if not run_dir.is_dir():
        raise StationError(409, f"run directory {run_dir} is missing")
    if name not in os.listdir(run_dir):
        return None
    try:
        # O_NONBLOCK: a FIFO put in the record is not waited on (it is refused below).
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(run_dir / name, flags)
    except OSError:
        return None  # a symlink (ELOOP), or gone since the listing
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        return fh.read()


def _record_files(run_dir: Path) -> list[str]:
    """The names of the plain files directly in ``run_dir`` (what ``/runs/ID/files/NAME`` serves)."""
    if not run_dir.is_dir():
        raise StationError(409, f"run directory {run_dir} is missing")
    with os.scandir(run_dir) as entries:
        return sorted(e.name for e in entries if e.is_file(follow_symlinks=False))


@_answering(as_json=True)
async def list_files(request: Request) -> Response:
    """``GET /api/runs/{run_id}/files``: the names of the record's files, for the run page's links."""
    summary = await _summary(request)
    return _json(await run_in_threadpool(_record_files, Path(summary.run_dir)))


def _certificate(run_dir: Path, kind: str) -> bytes:
    """The stored certificate of a record that verifies against a trusted key, or one rendered now."""
    from rig.commands.verify import verification
    from rig.report.certificate import load_certificate, render_html, render_pdf

    checked = verification(run_dir)
    if not checked.ok or checked.signer is None:
        raise StationError(
            409, f"no certificate: the record is not as a trusted key sealed it: {'; '.join(checked.lines)}"
        )
    stored = _read_record_file(run_dir, f"certificate.{kind}")
    if stored is not None:
        return stored
    # Rendered for this answer only: the record stays exactly as it was sealed.
    certificate = load_certificate(run_dir, checked.signer.public_hex)
    return render_html(certificate).encode("utf-8") if kind == "html" else render_pdf(certificate)


async def _certificate_response(request: Request, kind: str) -> Response:
    summary = await _summary(request)
    if summary.status == "running":
        raise StationError(409, f"run {summary.run_id} is still running: it has no certificate yet")
    body = await run_in_threadpool(_certificate, Path(summary.run_dir), kind)
    if kind == "html":
        headers = {"Content-Security-Policy": CERTIFICATE_POLICY}
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)
    disposition = f'inline; filename="certificate-{summary.run_id}.pdf"'
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": disposition})


@_answering(as_json=False)
async def certificate_html(request: Request) -> Response:
    """``GET /runs/{run_id}/certificate.html``: the record's certificate, or one rendered now."""
    return await _certificate_response(request, "html")


@_answering(as_json=False)
async def certificate_pdf(request: Request) -> Response:
    """``GET /runs/{run_id}/certificate.pdf``: the record's certificate, or one rendered now."""
    return await _certificate_response(request, "pdf")


@_answering(as_json=False)
async def record_file(request: Request) -> Response:
    """``GET /runs/{run_id}/files/{name}``: one file of the run's record, as it is."""
    summary = await _summary(request)
    name = request.path_params["name"]
    data = await run_in_threadpool(_read_record_file, Path(summary.run_dir), name)
    if data is None:
        raise StationError(404, f"run {summary.run_id} has no file {name!r}")
    text = Path(name).suffix.lower() in TEXT_SUFFIXES
    media = "text/plain; charset=utf-8" if text else "application/octet-stream"
    # nosniff: a record file is shown as what it is, never taken for a page to run.
    return Response(data, media_type=media, headers={"X-Content-Type-Options": "nosniff"})


# --- the pages -----------------------------------------------------------------------------------


@_answering(as_json=False)
async def runs_page(request: Request) -> Response:
    """``GET /runs``: the run list (its script reads ``/api/runs``)."""
    return FileResponse(STATIC / "runs.html", media_type="text/html")


@_answering(as_json=False)
async def run_page(request: Request) -> Response:
    """``GET /runs/{run_id}``: one run's page (its script takes the id from the address)."""
    return FileResponse(STATIC / "run.html", media_type="text/html")


def history_routes() -> list[BaseRoute]:
    """The run history's routes, for the station's app (it sets ``state.access`` and ``state.data_dir``)."""
    return [
        Route("/api/runs", list_runs),
        Route("/api/runs/{run_id}", show_run),
        Route("/api/runs/{run_id}/plot.png", plot),
        Route("/api/runs/{run_id}/verify", verify),
        Route("/api/runs/{run_id}/files", list_files),
        Route("/runs", runs_page),
        Route("/runs/{run_id}", run_page),
        Route("/runs/{run_id}/certificate.html", certificate_html),
        Route("/runs/{run_id}/certificate.pdf", certificate_pdf),
        Route("/runs/{run_id}/files/{name}", record_file),
    ]
