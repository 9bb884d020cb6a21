"""A local run record as the lab store keeps it: every file's bytes, verified, and the fields searched.

The files are read once into memory and verified *as read* (written into a private temporary
directory and checked there against the trust store), so that what is stored is exactly what
was verified, even if the run directory changes meanwhile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from rig.errors import InputError
from rig.record.integrity import MANIFEST, SIGNATURE, describe, record_entries
from rig.record.measurement import Measurement
from rig.record.results import RunResults
from rig.record.run_store import RunSummary
from rig.record.trust import TrustStore, check_signer

# Statuses of a run that has not ended: its record is not sealed yet, or never will be.
UNFINISHED = ("running", "interrupted")
_STARTED_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


class RefusedError(Exception):
    """A record the store must not take (altered, untrusted, not a record, a different record under
    its id): the message is one line saying why."""


class UnfinishedError(Exception):
    """A run that is not finished (running or interrupted): not pushed, and not an error."""


@dataclass(frozen=True)
class StoredMeasurement:
    """One measurement as the store indexes it (rates in Pa·m³/s, as ``results.json`` keeps them)."""

    name: str
    value: float | None
    uncertainty_k2: float | None  # expanded uncertainty U, k = 2
    limit: float | None
    unit: str | None  # the unit the procedure wrote the limit in (values stay in Pa·m³/s)
    outcome: str | None


@dataclass(frozen=True)
class Certificate:
    """The certificate files of a record (their SHA-256) and the seal that covers them."""

    html_sha256: str | None
    pdf_sha256: str | None
    sealed_at: str | None
    public_key: str


@dataclass(frozen=True)
class Snapshot:
    """A verified run record: the index fields, the measurements, the certificate and the files' bytes."""

    run_id: str
    bench: str
    procedure: str
    started: str
    ended: str | None
    status: str
    verdict: str | None
    reason: str | None
    operator: str | None
    part: str | None
    serial: str | None
    run_dir: str
    pid: int
    signer_public_key: str
    manifest_sha256: str
    measurements: tuple[StoredMeasurement, ...]
    certificate: Certificate | None
    files: Mapping[str, bytes]

    @property
    def started_at(self) -> dt.datetime | None:
        """``started`` as a time (None if it is not in the index's format)."""
        return started_time(self.started)


def started_time(started: str) -> dt.datetime | None:
    """A run's ``started`` (``2026-12-06T13:23:50+0000``) as an aware time; None if it is not one."""
    try:
        return dt.datetime.strptime(started, _STARTED_FORMAT)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(started)
        except ValueError:
            return None
        return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def is_run_id(name: str) -> bool:
    """Whether ``name`` can be a run id: one directory name (a pull writes ``DIR/RUN_ID``), never a path."""
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def sha256(data: bytes) -> str:
    """The SHA-256 of ``data``, as lowercase hex (as manifests have it)."""
    return hashlib.sha256(data).hexdigest()


def read_files(run_dir: Path, listed: Collection[str] | None = None) -> dict[str, bytes]:
    """Every regular file under ``run_dir`` by its POSIX path relative to it; :class:`RefusedError` for
    anything else (a symlink could point anywhere) or a file that cannot be read.

    With ``listed`` (the files the manifest names), a file it does not name is refused before any
    file is read: a record holds nothing else, and a stray disk image would be read into memory whole.
    """
    files: dict[str, bytes] = {}
    try:
        for rel, path, mode in record_entries(run_dir):
            if not stat.S_ISREG(mode):
                raise RefusedError(f"{rel}: not a regular file")
            if listed is not None and rel not in listed and rel not in (MANIFEST, SIGNATURE):
                raise RefusedError(f"it does not verify: added: {rel}")
            try:
                files[rel] = path.read_bytes()
            except OSError as exc:
                raise RefusedError(f"{rel}: cannot read: {exc.strerror or exc}") from None
    except InputError as exc:
        raise RefusedError(str(exc)) from None
    return dict(sorted(files.items()))


def write_files(files: Mapping[str, bytes], target: Path) -> None:
    """Write ``files`` (relative POSIX paths, checked to stay inside) under the directory ``target``."""
    for name, data in files.items():
        parts = PurePosixPath(name).parts
        if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
            raise RefusedError(f"{name!r}: not a path inside a run directory")
        path = target.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def take(run_dir: Path, summary: RunSummary | None, trust: TrustStore) -> Snapshot:
    """Read and verify the record in ``run_dir``; ``summary`` is its row of the local index, if known.

    :class:`UnfinishedError` for a run the index shows running or interrupted, or one not sealed;
    :class:`RefusedError` for a record that does not verify against a key of ``trust``.
    """
    if summary is not None and summary.status in UNFINISHED:
        raise UnfinishedError(f"{summary.run_id}: {summary.status}, not finished: skipped")
    # Checked before reading a byte: `rig store push /` must not read the whole disk to say no.
    if not (run_dir / "run.json").is_file():
        raise RefusedError(f"{run_dir}: not a run directory (no run.json)")
    try:
        files = read_files(run_dir, _manifest_names(run_dir))
    except RefusedError as exc:  # said of a file inside: name the run, as every other refusal does
        raise RefusedError(f"{run_dir}: refused, {exc}") from None
    if MANIFEST not in files:
        raise UnfinishedError(f"{run_dir}: not sealed (still running, or interrupted): skipped")
    with tempfile.TemporaryDirectory(prefix="leakrig-push-") as tmp:
        write_files(files, Path(tmp))
        checked = check_signer(tmp, trust)
    report = checked.report
    if not report.ok or report.public_key is None:
        raise RefusedError(f"{run_dir}: refused, it does not verify: {'; '.join(describe(report))}")
    info = _json_object(files, "run.json", run_dir)
    results = _json_object(files, "results.json", run_dir) if "results.json" in files else {}
    return _snapshot(run_dir, summary, info, results, files, report.public_key)


def _manifest_names(run_dir: Path) -> frozenset[str] | None:
    """The files ``run_dir``'s manifest names; None when it has none that reads (verifying says why)."""
    try:
        manifest = json.loads((run_dir / MANIFEST).read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    names = manifest.get("files") if isinstance(manifest, dict) else None
    return frozenset(str(name) for name in names) if isinstance(names, dict) else None


def _snapshot(
    run_dir: Path,
    summary: RunSummary | None,
    info: Mapping[str, Any],
    results: Mapping[str, Any],
    files: Mapping[str, bytes],
    public_key: str,
) -> Snapshot:
    run_id, procedure, bench, started = (info.get(k) for k in ("run_id", "procedure", "bench", "started"))
    if not all(isinstance(v, str) and v for v in (run_id, procedure, bench, started)):
        raise RefusedError(f"{run_dir}: run.json does not name its run_id, procedure, bench and start")
    assert isinstance(run_id, str) and isinstance(procedure, str)  # checked just above
    if not is_run_id(run_id):
        raise RefusedError(f"{run_dir}: refused, its run id {run_id!r} is a path, not a name")
    assert isinstance(bench, str) and isinstance(started, str)
    recorded = RunResults.from_json(results)
    verdict = None if recorded.verdict is None else recorded.verdict.value
    if summary is not None:
        status, ended, reason, pid = summary.status, summary.ended, summary.reason, summary.pid
        verdict = summary.verdict or verdict
    else:
        from rig.engine.runner import STATUS

        status = "aborted" if recorded.verdict is None else STATUS[recorded.verdict]
        ended, reason, pid = None, recorded.reason, 0
    article = info.get("article")
    article = article if isinstance(article, Mapping) else {}
    manifest = _json_object(files, MANIFEST, run_dir)
    return Snapshot(
        run_id=run_id,
        bench=bench,
        procedure=procedure,
        started=started,
        ended=ended,
        status=status,
        verdict=verdict,
        reason=reason,
        operator=_text(info.get("operator")),
        part=_text(article.get("part")),
        serial=_text(article.get("serial")),
        run_dir=summary.run_dir if summary is not None else str(run_dir),
        pid=pid,
        signer_public_key=public_key,
        manifest_sha256=sha256(files[MANIFEST]),
        measurements=tuple(_stored(m) for m in (recorded.measurements or {}).values()),
        certificate=_certificate(files, manifest, public_key),
        files=files,
    )


def _stored(m: Measurement) -> StoredMeasurement:
    return StoredMeasurement(
        name=m.name or "",
        value=m.value_pa_m3_s,
        uncertainty_k2=m.expanded_uncertainty_pa_m3_s,
        limit=m.limit_pa_m3_s,
        # The unit the procedure wrote its limit in (a trend shows values in it); the values stay
        # in Pa·m³/s, as rig.record.history.HistoryPoint has it.
        unit=m.written_unit or m.unit,
        outcome=None if m.outcome is None else m.outcome.value,
    )


def _certificate(
    files: Mapping[str, bytes], manifest: Mapping[str, Any], public_key: str
) -> Certificate | None:
    html, pdf = files.get("certificate.html"), files.get("certificate.pdf")
    if html is None and pdf is None:
        return None
    return Certificate(
        html_sha256=None if html is None else sha256(html),
        pdf_sha256=None if pdf is None else sha256(pdf),
        sealed_at=_text(manifest.get("signed_at")),
        public_key=public_key,
    )


def _json_object(files: Mapping[str, bytes], name: str, run_dir: Path) -> Mapping[str, Any]:
    data = files.get(name)
    if data is None:
        raise RefusedError(f"{run_dir}: no {name}")
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise RefusedError(f"{run_dir}: {name} is not JSON") from None
    if not isinstance(value, dict):
        raise RefusedError(f"{run_dir}: {name} is not a JSON object")
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
