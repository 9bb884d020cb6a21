"""The trust store: the Ed25519 keys whose signature on a run record this rig accepts.

A manifest carries its own public key, so a valid signature only proves that nothing changed
since *somebody* sealed the record. The trust store says who counts:

* **this rig's own key**: the public half of ``signing_key.pem`` in
  :func:`~rig.record.integrity.default_key_dir` (``$LEAKRIG_KEY_DIR``), when that file exists
  and nobody else could have written it. It is derived from the private key, never read from
  ``signing_key.pub``, and never created here: reading the trust store writes nothing.
* **the keys an administrator adds**: one file per key in ``trusted_keys/`` under the user's
  config directory, or in the directory ``$LEAKRIG_TRUSTED_KEYS`` instead. A file holds the
  64-hex raw public key (as ``rig keys show`` and ``signing_key.pub`` give it), a PEM public
  key (``-----BEGIN PUBLIC KEY-----``), or both, which must agree; blank lines and lines
  starting with ``#`` are ignored, and so are files whose name starts with ``.``.

Keys are named by fingerprint: ``SHA256:`` and the first 16 bytes, as 32 hex digits, of the
SHA-256 of the 32 raw public-key bytes (:func:`fingerprint`).

The trust directory and its files must be owned by the user or root and not be writable by
group or others (the directory may be sticky); the signing key must pass
:func:`~rig.record.preflight.signing_key_problem` to count as this rig's own. A file that
fails, or is not a key, is one line in :attr:`TrustStore.problems` and is not trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from rig.errors import InputError
from rig.record.integrity import (
    KEY_FILE,
    IntegrityReport,
    default_key_dir,
    public_key_hex,
    read_signing_key,
    verify_run,
)
from rig.record.preflight import check_ready_to_sign as check_ready_to_sign  # re-exported: the
from rig.record.preflight import check_writable_dir as check_writable_dir  # checks before signing
from rig.record.preflight import euid, signing_key_problem, unsafe_dir, unsafe_file

TRUSTED_KEYS_ENV = "LEAKRIG_TRUSTED_KEYS"
MAX_KEY_FILE_BYTES = 64 * 1024  # a key file is under 1 kB; anything far larger is not one

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)


def default_trust_dir() -> Path:
    """Where trusted keys go: ``$LEAKRIG_TRUSTED_KEYS``, else ``trusted_keys`` in the config dir."""
    env = os.environ.get(TRUSTED_KEYS_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("leakrig", appauthor=False)) / "trusted_keys"


def fingerprint(public_hex: str) -> str:
    """``SHA256:`` and the first 16 bytes (hex) of the SHA-256 of the raw 32-byte public key."""
    return "SHA256:" + hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:32]


def parse_public_key(data: bytes, what: str) -> str:
    """The lowercase hex of the Ed25519 public key in ``data``, or :class:`InputError` naming ``what``.

    ``data`` holds 64 hex digits, a PEM public key, or both (then they must be the same key);
    blank lines and ``#`` comments are ignored.
    """
    blocks = list(_PEM_BLOCK.finditer(data))
    if b"PRIVATE KEY-----" in data:
        raise InputError(f"{what}: holds a private key; only a public key belongs here")
    if len(blocks) > 1:
        raise InputError(f"{what}: more than one PEM block; one key a file")
    pem_hex = _pem_public_hex(blocks[0].group(0), what) if blocks else None
    rest = _PEM_BLOCK.sub(b"", data)
    try:
        lines = [line.strip() for line in rest.decode("ascii").splitlines()]
    except UnicodeDecodeError:
        raise InputError(f"{what}: not a public key (not text)") from None
    words = [line for line in lines if line and not line.startswith("#")]
    if len(words) > 1 or (words and not _HEX64.fullmatch(words[0])):
        raise InputError(f"{what}: not a public key (64 hex digits or a PEM Ed25519 public key)")
    raw_hex = words[0].lower() if words else None
    if raw_hex is None and pem_hex is None:
        raise InputError(f"{what}: no public key in it (64 hex digits or a PEM Ed25519 public key)")
    if raw_hex is not None and pem_hex is not None and raw_hex != pem_hex:
        raise InputError(f"{what}: its hex key and its PEM key differ")
    key_hex = raw_hex or pem_hex
    assert key_hex is not None
    return key_hex


def _pem_public_hex(block: bytes, what: str) -> str:
    try:
        key = serialization.load_pem_public_key(block)
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(f"{what}: not a readable PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{what}: not an Ed25519 key ({type(key).__name__})")
    return public_key_hex(key)


@dataclass(frozen=True)
class TrustedKey:
    """One key of the trust store and where the trust in it comes from."""

    public_hex: str
    source: str  # "this rig's own key, PATH", or the file in the trust directory
    own: bool

    @property
    def fingerprint(self) -> str:
        """The key's fingerprint (:func:`fingerprint`)."""
        return fingerprint(self.public_hex)

    def describe(self) -> str:
        """``SHA256:... (source)``, for messages."""
        return f"{self.fingerprint} ({self.source})"


@dataclass(frozen=True)
class TrustStore:
    """The keys this rig trusts (its own first, if any) and one line per file that could not be used."""

    keys: tuple[TrustedKey, ...]
    problems: tuple[str, ...]
    key_dir: Path
    trust_dir: Path

    @property
    def own(self) -> TrustedKey | None:
        """This rig's own key, if it has a usable one."""
        return next((k for k in self.keys if k.own), None)

    def find(self, public_hex: str) -> TrustedKey | None:
        """The trusted key with this hex (the rig's own before an administrator's), or None."""
        return next((k for k in self.keys if k.public_hex == public_hex.lower()), None)

    def summary(self) -> str:
        """What the store holds, in a few words: for the message that a key is not in it."""
        own = self.own
        mine = f"this rig's own key {own.fingerprint}" if own else f"no usable signing key in {self.key_dir}"
        others = sum(1 for k in self.keys if not k.own)
        return f"{mine}; {others} key(s) in {self.trust_dir}"


def load_trust_store(key_dir: Path | None = None, trust_dir: Path | None = None) -> TrustStore:
    """Read the trust store; creates and writes nothing, and raises nothing for a bad file.

    ``key_dir`` defaults to :func:`~rig.record.integrity.default_key_dir`, ``trust_dir`` to
    :func:`default_trust_dir`.
    """
    from_env = trust_dir is None and bool(os.environ.get(TRUSTED_KEYS_ENV))
    key_dir = Path(key_dir) if key_dir is not None else default_key_dir()
    trust_dir = Path(trust_dir) if trust_dir is not None else default_trust_dir()
    keys: list[TrustedKey] = []
    problems: list[str] = []
    own = _own_key(key_dir, problems)
    if own is not None:
        keys.append(own)
    for key in _administrator_keys(trust_dir, from_env, problems):
        if all(k.public_hex != key.public_hex for k in keys):
            keys.append(key)
    return TrustStore(tuple(keys), tuple(problems), key_dir, trust_dir)


def _own_key(key_dir: Path, problems: list[str]) -> TrustedKey | None:
    key_path = key_dir / KEY_FILE
    try:
        if not key_path.exists() and not key_path.is_symlink():
            return None
        unsafe = signing_key_problem(key_dir)
        if unsafe is not None:
            problems.append(f"{unsafe}; not trusted as this rig's key")
            return None
        key = read_signing_key(key_path)
    except InputError as exc:
        problems.append(f"{exc}; not trusted as this rig's key")
        return None
    except OSError as exc:
        problems.append(f"{key_path}: cannot read: {exc.strerror or exc}; not trusted as this rig's key")
        return None
    return TrustedKey(public_key_hex(key), f"this rig's own key, {key_path}", own=True)


def _administrator_keys(trust_dir: Path, from_env: bool, problems: list[str]) -> list[TrustedKey]:
    try:
        st = os.stat(trust_dir)
    except FileNotFoundError:
        if from_env:  # named on purpose, so its absence is worth a word
            problems.append(f"{trust_dir}: no such directory (${TRUSTED_KEYS_ENV}); no key trusted from it")
        return []
    except OSError as exc:
        problems.append(f"{trust_dir}: cannot read: {exc.strerror or exc}; no key trusted from it")
        return []
    unsafe = unsafe_dir(trust_dir, st, owners=_admins())
    if unsafe is not None:
        problems.append(f"{unsafe}; no key trusted from it")
        return []
    try:
        entries = sorted(os.scandir(trust_dir), key=lambda e: e.name)
    except OSError as exc:
        problems.append(f"{trust_dir}: cannot list: {exc.strerror or exc}; no key trusted from it")
        return []
    keys = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            keys.append(TrustedKey(_read_trusted_file(Path(entry.path)), entry.path, own=False))
        except InputError as exc:
            problems.append(f"{exc}; not trusted")
    return keys


def _read_trusted_file(path: Path) -> str:
    try:
        # O_NOFOLLOW: a symlink could point at anything, the key file must be the key itself.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        what = "a symlink" if path.is_symlink() else f"cannot read: {exc.strerror or exc}"
        raise InputError(f"{path}: {what}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InputError(f"{path}: not a regular file")
    with os.fdopen(fd, "rb") as fh:
        unsafe = unsafe_file(path, st, owners=_admins(), private=False)
        if unsafe is not None:
            raise InputError(unsafe)
        data = fh.read(MAX_KEY_FILE_BYTES + 1)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise InputError(f"{path}: too large to be a key file")
    return parse_public_key(data, str(path))


def _admins() -> frozenset[int]:
    # An administrator may install trusted keys as root for every user of the machine.
    return frozenset({euid(), 0})


@dataclass(frozen=True)
class SignerCheck:
    """A run's integrity report judged against the trust store.

    ``report`` is :func:`~rig.record.integrity.verify_run`'s, with ``signed by an untrusted key
    ...`` among its problems when the signature is valid but its key is not in ``store``.
    ``signer`` is the trusted key whose valid signature seals the record, None otherwise.
    """

    report: IntegrityReport
    signer: TrustedKey | None
    store: TrustStore


def check_signer(run_dir: str | Path, store: TrustStore | None = None) -> SignerCheck:
    """Verify a run (:func:`~rig.record.integrity.verify_run`) and require its signer to be trusted.

    ``store`` defaults to :func:`load_trust_store`, read after the run directory is known to be
    one. Reads only.
    """
    report = verify_run(run_dir)
    store = store if store is not None else load_trust_store()
    signer = None
    # Only a valid signature says who signed; a broken one is already reported as such.
    if report.public_key is not None and not report.problems:
        signer = store.find(report.public_key)
        if signer is None:
            untrusted = (
                f"signed by an untrusted key {fingerprint(report.public_key)} (public key"
                f" {report.public_key}; not in the trust store: {store.summary()})"
            )
            report = replace(report, ok=False, problems=[untrusted])
    return SignerCheck(report, signer, store)


def write_trusted_key(public_hex: str, name: str, trust_dir: Path | None = None) -> Path:
    """Add a key to the trust directory as ``NAME.pub`` (its hex, then its PEM); return the file.

    The directory is created (mode 0755) if missing and must pass the same checks as when it
    is read; an existing file of that name is never overwritten.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}", name):
        raise InputError(f"{name!r}: a key name is letters, digits, '.', '_' and '-' (not first '.')")
    trust_dir = Path(trust_dir) if trust_dir is not None else default_trust_dir()
    if not trust_dir.exists():
        try:
            trust_dir.mkdir(parents=True)
            trust_dir.chmod(0o755)  # public keys: readable, but writable by the administrator alone
        except OSError as exc:
            raise InputError(f"{trust_dir}: cannot create: {exc.strerror or exc}") from None
    unsafe = unsafe_dir(trust_dir, os.stat(trust_dir), owners=_admins())
    if unsafe is not None:
        raise InputError(f"{unsafe}; nothing written")
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    text = f"# {fingerprint(public_hex)}\n{public_hex}\n".encode("ascii") + pem
    path = trust_dir / f"{name}.pub"
    try:
        # O_EXCL: a key file of that name, trusted by somebody for some reason, is not replaced.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise InputError(f"{path}: already exists; choose another --name") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path
