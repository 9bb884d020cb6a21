"""The station's web application: the live page, its API and event stream, the run history.

Reads (the page, the runs, the event stream) are open on a loopback station and need the token
elsewhere; starting and stopping runs and answering prompts always need it
(:mod:`rig.station.access`). Every error is one JSON line ``{"error": ...}`` with its status.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from rig.station.access import Access, origin
from rig.station.control import Station
from rig.station.feed import json_safe
from rig.station.history import history_routes
from rig.station.refusal import StationError

STATIC = Path(__file__).parent / "static"
# Points of each channel a page opened mid-run is sent from the record (the rest comes live).
TRACE_POINTS = 5000
# How long an event stream waits for news before it sends a keep-alive comment.
STREAM_WAIT_S = 15.0
MAX_BODY_BYTES = 64 * 1024

log = logging.getLogger("rig.station")


def build_app(station: Station, access: Access) -> Starlette:
    """The station's application for ``station``, guarded by ``access``.

    A station open to loopback reads answers only requests addressed to a loopback name: a web
    page elsewhere that rebinds its own host name to 127.0.0.1 must not read the bench's runs.
    """
    routes: list[BaseRoute] = [
        Route("/", _page, methods=["GET"]),
        Route("/api/station", _about, methods=["GET"]),
        Route("/api/live", _live, methods=["GET"]),
        Route("/api/events", _events, methods=["GET"]),
        Route("/api/runs", _start, methods=["POST"]),
        Route("/api/runs/{run_id}/stop", _stop, methods=["POST"]),
        Route("/api/prompts/{prompt_id:int}", _answer, methods=["POST"]),
        *history_routes(),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = []
    if access.open_reads:
        hosts = ["127.0.0.1", "localhost", "[::1]", "::1"]
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=hosts))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_error,
            StationError: _station_error,
            Exception: _internal_error,
        },
    )
    app.state.station = station
    app.state.access = access
    app.state.data_dir = station.settings.data_dir
    return app


def _station(request: Request) -> Station:
    station: Station = request.app.state.station
    return station


def _access(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


async def _page(request: Request) -> Response:
    # The page itself is no secret (it holds no data): it asks for its token-free view or, opened
    # with ?token=, keeps the token in the tab and takes it out of the address bar.
    return FileResponse(STATIC / "live.html", headers={"Cache-Control": "no-store"})


async def _about(request: Request) -> Response:
    _access(request).require_viewer(request)
    station = _station(request)
    settings = station.settings
    return JSONResponse(
        {
            "bench": station.bench.name,
            "bench_path": str(settings.bench_path),
            "sim": settings.sim,
            "operator": settings.operator,
            "data_dir": str(settings.data_dir),
            "operator_rights": _access(request).is_operator(request),
            "procedures": await run_in_threadpool(station.procedures),
        }
    )


async def _live(request: Request) -> Response:
    _access(request).require_viewer(request)
    station = _station(request)
    # The number first: anything posted while the record is read comes again on the stream,
    # and the page drops the samples it already has (by time).
    seq = station.hub.last_seq
    state = station.live()
    run = state.get("run") or {}
    run_id = run.get("run_id")
    trace = await run_in_threadpool(_trace, station, run_id) if isinstance(run_id, str) else None
    return JSONResponse(json_safe({"seq": seq, **state, "trace": trace}))


def _trace(station: Station, run_id: str) -> dict[str, Any] | None:
    """The run's samples so far, from its record (None: it cannot be read)."""
    from rig.errors import InputError
    from rig.record.run_store import RunStore

    try:
        return trace_from(RunStore(station.settings.data_dir).find(run_id).run_dir)
    except (InputError, OSError):
        return None


def trace_from(run_dir: str | Path, points: int = TRACE_POINTS) -> dict[str, Any]:
    """The samples of the record in ``run_dir``, every k-th kept to stay within ``points``, the last always.

    Raises what :func:`rig.record.run_store.read_samples` raises for a record it cannot read.
    """
    from rig.record.run_store import read_samples

    header, rows = read_samples(run_dir)
    stride = max(1, -(-len(rows) // points))
    kept = rows[::stride]
    if rows and kept[-1] is not rows[-1]:
        kept.append(rows[-1])
    channels = header[2:]
    values: dict[str, list[float | None]] = {name: [] for name in channels}
    times: list[float] = []
    for row in kept:
        try:
            t = float(row[0])
            cells = [float(cell) if cell else None for cell in row[2 : 2 + len(channels)]]
        except (ValueError, IndexError):
            continue  # a row the record does not hold whole is no sample to draw
        times.append(t)
        cells += [None] * (len(channels) - len(cells))
        for name, cell in zip(channels, cells, strict=True):
            values[name].append(cell)
    return {"t": times, "values": values}


async def _events(request: Request) -> Response:
    _access(request).require_viewer(request)
    hub = _station(request).hub
    given = request.headers.get("last-event-id") or request.query_params.get("since") or "0"
    try:
        cursor = int(given)
    except ValueError:
        raise HTTPException(400, f"since must be a message number, not {given!r}") from None

    async def stream() -> AsyncIterator[dict[str, Any]]:
        nonlocal cursor
        while True:
            messages = hub.since(cursor)
            if messages is None:
                # Fallen behind what the hub keeps: the page reads the record again.
                cursor = hub.last_seq
                yield {"id": str(cursor), "data": json.dumps({"type": "resync"})}
                continue
            for message in messages:
                cursor = message["seq"]
                yield {"id": str(cursor), "data": json.dumps(message, allow_nan=False)}
            if await request.is_disconnected():
                return
            await hub.wait(cursor, STREAM_WAIT_S)

    return EventSourceResponse(stream(), ping=STREAM_WAIT_S, headers={"Cache-Control": "no-store"})


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise HTTPException(413, f"request body over {MAX_BODY_BYTES} bytes")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return body


def _optional(body: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = body.get(key)
    if value is None:
        return None
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise HTTPException(400, f"{key} must be {what}, not {json.dumps(value)}")
    return value


async def _start(request: Request) -> Response:
    _access(request).require_operator(request)
    body = await _body(request)
    procedure = body.get("procedure")
    if not isinstance(procedure, str):
        raise HTTPException(400, 'give the procedure: {"procedure": "<path>", "seed": N}')
    seed = _optional(body, "seed", int, "a whole number")
    speed = _optional(body, "speed", (int, float), "a number")
    sim = _optional(body, "sim", bool, "true or false")
    operator = _optional(body, "operator", str, "a name")
    part = _optional(body, "part", str, "text")
    serial = _optional(body, "serial", str, "text")
    station = _station(request)
    run_id = await run_in_threadpool(
        lambda: station.start(
            procedure,
            seed=seed,
            speed=None if speed is None else float(speed),
            sim=sim,
            origin=origin(request),
            operator=operator.strip()[:80] if operator else None,
            article=(_short(part), _short(serial)),
        )
    )
    return JSONResponse({"run_id": run_id}, status_code=201)


def _short(text: str | None) -> str | None:
    """A part or serial number as the record keeps it: trimmed, at most 80 characters, None if empty."""
    trimmed = (text or "").strip()[:80]
    return trimmed or None


async def _stop(request: Request) -> Response:
    _access(request).require_operator(request)
    station = _station(request)
    active = station.active
    run_id = request.path_params["run_id"]
    if active is None or active.feed.run_id != run_id:
        raise StationError(409, f"run {run_id} is not going on")
    stops = station.stop(origin(request))
    return JSONResponse({"run_id": run_id, "stops": stops, "immediate": stops >= 2})


async def _answer(request: Request) -> Response:
    _access(request).require_operator(request)
    body = await _body(request)
    answer = body.get("answer")
    if answer not in ("yes", "no"):
        raise HTTPException(400, 'answer must be "yes" or "no"')
    by = _optional(body, "operator", str, "a name")
    station = _station(request)
    prompt_id: int = request.path_params["prompt_id"]
    who = by.strip()[:80] if by and by.strip() else station.settings.operator
    if not station.broker.answer(prompt_id, answer == "yes", who, origin(request)):
        raise StationError(409, f"prompt {prompt_id} is not waiting for an answer (answered already?)")
    return JSONResponse({"prompt": prompt_id, "answer": answer, "answered_by": who})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)


async def _station_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StationError)
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("station: %s %s: %r", request.method, request.url.path, exc, exc_info=exc)
    return JSONResponse({"error": f"internal error: {exc!r}"}, status_code=500)
