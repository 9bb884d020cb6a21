"""Run-record integrity: a signed manifest of the SHA-256 of every file of a run.

``seal_run`` writes ``manifest.json`` (the SHA-256 of every regular file under the run
directory, the signer's Ed25519 public key and the time) and ``manifest.sig`` (the Ed25519
signature of the manifest's exact bytes, as hex). ``verify_run`` checks both and names every
file that was altered, added or removed since. The signing key is local (``default_key_dir``),
created on first use; its public key goes on the certificate.

The manifest carries its own public key, so a manifest that merely verifies proves only that
nothing changed since *somebody* sealed it: anyone can alter a record and re-seal it with a key
of their own. Who sealed it is a separate question, answered against a trusted key: the one
given to ``verify_run``, or the trust store (:mod:`rig.record.trust`: this rig's own key and
the keys an administrator added), which ``rig verify`` and ``rig report`` consult. Before a key
signs anything, :func:`rig.record.trust.check_ready_to_sign` refuses a key file that somebody
else could have written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import platformdirs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rig.errors import InputError
from rig.record.atomic import write_atomically

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
KEY_FILE = "signing_key.pem"
PUBLIC_KEY_FILE = "signing_key.pub"
KEY_DIR_ENV = "LEAKRIG_KEY_DIR"
MANIFEST_VERSION = 1

_HEX64 = re.compile(r"[0-9a-f]{64}")
# The signature file is exactly 128 lowercase hex digits and a newline. Anything looser
# (whitespace stripped, upper case accepted) would let a changed byte go unnoticed.
_SIGNATURE_FORMAT = re.compile(rb"[0-9a-f]{128}\n")
_SEALING_FILES = frozenset({MANIFEST, SIGNATURE})


def default_key_dir() -> Path:
    """Where the signing key lives: ``$LEAKRIG_KEY_DIR``, else ``keys`` in the user's config directory."""
    env = os.environ.get(KEY_DIR_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("leakrig", appauthor=False)) / "keys"


def load_or_create_key(key_dir: Path | None = None) -> Ed25519PrivateKey:
    """The local Ed25519 signing key, created on first use and never overwritten.

    The key is ``signing_key.pem`` (unencrypted PKCS#8, mode 0600) in ``key_dir`` (default:
    :func:`default_key_dir`, created with mode 0700); ``signing_key.pub`` next to it holds the
    raw public key as hex, for the certificate. A key file that cannot be read or is not an
    Ed25519 key raises :class:`InputError`: it is never replaced, since runs sealed with it would
    then no longer match the key on their certificates.
    """
    key_dir = Path(key_dir) if key_dir is not None else default_key_dir()
    key_path = key_dir / KEY_FILE
    if not key_dir.is_dir():
        try:
            key_dir.mkdir(parents=True, exist_ok=True)
            key_dir.chmod(0o700)  # mkdir's mode is filtered by the umask; this is not
        except OSError as exc:
            raise InputError(f"{key_dir}: cannot create the key directory: {exc.strerror or exc}") from exc
    if not key_path.exists():
        _create_key_file(key_path)
    key = read_signing_key(key_path)
    _write_public_key(key_dir / PUBLIC_KEY_FILE, public_key_hex(key))
    return key


def public_key_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte Ed25519 public key of ``key`` as lowercase hex (what certificates show)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _create_key_file(key_path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written in full to a private temporary file, then hard-linked into place: the link fails
    # if a key appeared meanwhile (another rig process), so a key is never overwritten and
    # never seen half-written.
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".signing_key.", dir=key_path.parent)
    except OSError as exc:  # a key directory this user cannot write in
        raise InputError(f"{key_path}: cannot create the signing key: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp_name, key_path)
    except OSError as exc:
        raise InputError(f"{key_path}: cannot create the signing key: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)


def read_signing_key(key_path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in ``key_path``; :class:`InputError` if it is unreadable or not one.

    Reads only: unlike :func:`load_or_create_key`, nothing is created or written.
    """
    try:
        data = key_path.read_bytes()
    except OSError as exc:
        raise InputError(f"{key_path}: cannot read the signing key: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"{key_path}: not a readable unencrypted PEM private key; it is left as it is"
            " (move it away to have a new key created, but runs sealed with it need it to be re-sealed)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{key_path}: not an Ed25519 key ({type(key).__name__})")
    return key


def _write_public_key(path: Path, hex_key: str) -> None:
    # Derived from the private key, so rewriting it when it is missing or wrong loses nothing.
    text = hex_key + "\n"
    try:
        if path.exists() and path.read_text(encoding="ascii", errors="replace") == text:
            return
        path.write_text(text, encoding="ascii")
    except OSError as exc:
        raise InputError(f"{path}: cannot write the public key: {exc.strerror or exc}") from exc


@dataclass(frozen=True)
class IntegrityReport:
    """What ``verify_run`` found.

    ``altered``, ``added`` and ``missing`` are paths relative to the run directory (POSIX
    form) compared with the manifest; ``problems`` are reasons the manifest itself cannot be
    trusted (missing, not valid JSON, malformed, signature not matching, signed by another key
    than the trusted one), each starting with the file it concerns, or, from
    :func:`rig.record.trust.check_signer`, ``signed by an untrusted key ...``. ``public_key`` is
    the hex key the manifest names, if it could be read.
    """

    ok: bool
    altered: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    public_key: str | None = None


@dataclass(frozen=True)
class _Scan:
    """The files of a run directory: digests of regular files, names of anything else."""

    digests: dict[str, str]
    irregular: list[str]  # symlinks, FIFOs, sockets, devices: never followed or read


def _check_run_dir(run_dir: Path) -> None:
    if not run_dir.exists():
        raise InputError(f"{run_dir}: no such directory")
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: not a directory")


def _check_is_run(run_dir: Path) -> None:
    # Before any scan: `rig verify /` must not hash the whole file system to find out.
    if not any((run_dir / name).exists() for name in (MANIFEST, SIGNATURE, "run.json")):
        raise InputError(f"{run_dir}: not a run directory (no {MANIFEST}, {SIGNATURE} or run.json)")


def record_entries(run_dir: Path) -> Iterator[tuple[str, Path, int]]:
    """Every entry under ``run_dir`` that is not a directory: its POSIX path relative to ``run_dir``,
    its path and its mode (lstat: a symlink is reported as itself, never followed out of the run).

    Raises :class:`InputError` (one line) for a directory that cannot be listed or an entry that
    cannot be looked at.
    """
    pending = [run_dir]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            raise InputError(f"{directory}: cannot list: {exc.strerror or exc}") from exc
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(run_dir).as_posix()
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                raise InputError(f"{rel}: cannot read: {exc.strerror or exc}") from exc
            if stat.S_ISDIR(mode):
                pending.append(path)
            else:
                yield rel, path, mode


def _scan(run_dir: Path) -> _Scan:
    digests: dict[str, str] = {}
    irregular: list[str] = []
    for rel, path, mode in record_entries(run_dir):
        if rel in _SEALING_FILES:  # at the top only: a relative path without a folder
            continue
        if stat.S_ISREG(mode):
            digests[rel] = _sha256(path, rel)
        else:
            irregular.append(rel)
    return _Scan(dict(sorted(digests.items())), sorted(irregular))


def _sha256(path: Path, rel: str) -> str:
    try:
        # O_NOFOLLOW: a file swapped for a symlink after the directory was listed is refused.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise InputError(f"{rel}: cannot read: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise InputError(f"{rel}: not a regular file")
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _manifest_bytes(digests: dict[str, str], public_hex: str) -> bytes:
    manifest = {
        "version": MANIFEST_VERSION,
        "algorithm": "sha256",
        "files": dict(sorted(digests.items())),
        "public_key": public_hex,
        "signed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return (json.dumps(manifest, indent=2) + "\n").encode("utf-8")


def _seal(run_dir: Path, scan: _Scan, key_dir: Path | None) -> str:
    if scan.irregular:
        raise InputError(
            f"{run_dir}: not a regular file (a symlink or special file could point anywhere,"
            f" so it is not sealed): {', '.join(scan.irregular)}"
        )
    key = load_or_create_key(key_dir)
    public_hex = public_key_hex(key)
    manifest = _manifest_bytes(scan.digests, public_hex)
    try:
        write_atomically(run_dir / MANIFEST, manifest)
        write_atomically(run_dir / SIGNATURE, key.sign(manifest).hex().encode("ascii") + b"\n")
    except OSError as exc:
        raise InputError(f"{run_dir}: cannot write the manifest: {exc.strerror or exc}") from exc
    return public_hex


def seal_run(run_dir: str | Path, key_dir: Path | None = None) -> str:
    """Write the signed manifest of every regular file under ``run_dir``; return the public key hex.

    The manifest covers every file at any depth except ``manifest.json`` and ``manifest.sig``
    themselves, and is written as the directory is now: to re-seal a run that was sealed before,
    use :func:`reseal_if_intact`, which first checks that nothing but the named files changed.
    A symlink or other non-regular file raises :class:`InputError` (it could point anywhere).
    """
    run_dir = Path(run_dir)
    _check_run_dir(run_dir)
    return _seal(run_dir, _scan(run_dir), key_dir)


def _valid_key_hex(value: str, what: str) -> str:
    if not _HEX64.fullmatch(value.lower()):
        raise InputError(f"{what}: not an Ed25519 public key (64 hex digits): {value!r}")
    return value.lower()


def _parse_manifest(data: bytes) -> tuple[dict[str, str], str] | str:
    """The file digests and public key of a manifest, or the reason it is unusable."""
    try:
        manifest: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"{MANIFEST}: not valid JSON"
    if not isinstance(manifest, dict):
        return f"{MANIFEST}: malformed (not a JSON object)"
    if manifest.get("version") != MANIFEST_VERSION or manifest.get("algorithm") != "sha256":
        return f"{MANIFEST}: unsupported version or algorithm"
    public = manifest.get("public_key")
    if not isinstance(public, str) or not _HEX64.fullmatch(public):
        return f"{MANIFEST}: malformed public key"
    files = manifest.get("files")
    if not isinstance(files, dict):
        return f"{MANIFEST}: malformed file list"
    for name, digest in files.items():
        parts = PurePosixPath(name).parts
        if (
            not isinstance(digest, str)
            or not _HEX64.fullmatch(digest)
            or not parts
            or name != PurePosixPath(*parts).as_posix()  # no "./", "//" or trailing "/"
            or PurePosixPath(name).is_absolute()
            or ".." in parts
            or name in _SEALING_FILES
        ):
            return f"{MANIFEST}: malformed entry {name!r}"
    return dict(files), public


def _verify(run_dir: Path, scan: _Scan, trusted_public_key_hex: str | None) -> IntegrityReport:
    trusted = None
    if trusted_public_key_hex is not None:
        trusted = _valid_key_hex(trusted_public_key_hex, "trusted public key")
    manifest_path, signature_path = run_dir / MANIFEST, run_dir / SIGNATURE
    problems: list[str] = []
    manifest_data = _read_sealing_file(manifest_path, problems)
    signature_data = _read_sealing_file(signature_path, problems)
    if manifest_data is None:
        return IntegrityReport(ok=False, problems=problems)
    parsed = _parse_manifest(manifest_data)
    if isinstance(parsed, str):
        return IntegrityReport(ok=False, problems=[*problems, parsed])
    expected, public_hex = parsed
    if trusted is not None and public_hex != trusted:
        problems.append(f"{MANIFEST}: signed with public key {public_hex}, not the trusted {trusted}")
    if signature_data is not None:
        if not _SIGNATURE_FORMAT.fullmatch(signature_data):
            problems.append(f"{SIGNATURE}: malformed (not 128 lowercase hex digits and a newline)")
        else:
            try:
                public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
                public.verify(bytes.fromhex(signature_data[:128].decode("ascii")), manifest_data)
            except (InvalidSignature, ValueError):
                # Either file may have changed; the signature cannot tell which, so both are named.
                problems.append(
                    f"{SIGNATURE}: signature does not match {MANIFEST} (one of the two was altered)"
                )
    # The file comparison is reported even when the signature fails: the manifest is then not
    # proof of anything, but it still points at what was probably touched.
    actual = scan.digests
    present = set(actual) | set(scan.irregular)
    altered = sorted(n for n in expected if n in present and actual.get(n) != expected[n])
    added = sorted(present - set(expected))
    missing = sorted(n for n in expected if n not in present)
    ok = not (problems or altered or added or missing)
    return IntegrityReport(ok, altered, added, missing, problems, public_hex)


def _read_sealing_file(path: Path, problems: list[str]) -> bytes | None:
    try:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            problems.append(f"{path.name}: not a regular file")
            return None
        return path.read_bytes()
    except FileNotFoundError:
        problems.append(f"{path.name}: missing")
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def verify_run(run_dir: str | Path, trusted_public_key_hex: str | None = None) -> IntegrityReport:
    """Check a run's manifest, its signature and every file's hash.

    The signature is checked against the public key written in the manifest itself. That
    proves the run is unchanged since it was sealed, but not *who* sealed it: anyone can alter
    the files and re-seal them with a new key of their own. Give ``trusted_public_key_hex``
    (the key printed on the certificate) to require that the manifest was signed with that key,
    or use :func:`rig.record.trust.check_signer` to require a key of the trust store.

    A directory that does not exist or is not a run directory (none of ``manifest.json``,
    ``manifest.sig``, ``run.json`` at its top: refused before anything is read), an unreadable
    file, or a malformed trusted key raises :class:`InputError`.
    """
    run_dir = Path(run_dir)
    _check_run_dir(run_dir)
    _check_is_run(run_dir)
    return _verify(run_dir, _scan(run_dir), trusted_public_key_hex)


def describe(report: IntegrityReport) -> list[str]:
    """One line per finding of a failed verification: ``signature: ...``, ``altered: NAME``, ..."""
    lines = [f"signature: {p}" for p in report.problems]
    for kind, names in (("altered", report.altered), ("added", report.added), ("missing", report.missing)):
        lines.extend(f"{kind}: {name}" for name in names)
    return lines


def reseal_if_intact(
    run_dir: str | Path,
    key_dir: Path | None = None,
    adding: Iterable[str] = (),
    *,
    trusted_public_key_hex: str | None = None,
) -> str:
    """Re-seal a run after files were added to it, refusing if anything else changed.

    ``adding`` names the files (paths relative to the run directory) that may be new or changed
    since the last seal, such as the certificate being written; any other altered, added or
    missing file, or a manifest or signature that does not verify, raises :class:`InputError`
    listing the findings, so that altered data is never signed. Only the signature's
    consistency is checked unless ``trusted_public_key_hex`` is given (see :func:`verify_run`).
    Returns the public key hex of the new seal.
    """
    run_dir = Path(run_dir)
    _check_run_dir(run_dir)
    _check_is_run(run_dir)
    allowed = {PurePosixPath(name).as_posix() for name in adding}
    # One scan serves both the check and the new manifest, so a file changed between the two
    # cannot slip into the seal unchecked.
    scan = _scan(run_dir)
    report = _verify(run_dir, scan, trusted_public_key_hex)
    refused = IntegrityReport(
        ok=False,
        altered=[n for n in report.altered if n not in allowed],
        added=[n for n in report.added if n not in allowed],
        missing=report.missing,
        problems=report.problems,
    )
    findings = describe(refused)
    if findings:
        raise InputError(f"{run_dir}: not re-sealed, the run record is not intact: {'; '.join(findings)}")
    return _seal(run_dir, scan, key_dir)
