"""The trust store: which keys count, read from real files with real modes and owners, writing nothing."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from rig.cli import main
from rig.errors import InputError
from rig.record.integrity import load_or_create_key, public_key_hex, seal_run
from rig.record.run_store import RunStore
from rig.record.trust import (
    TRUSTED_KEYS_ENV,
    check_signer,
    default_trust_dir,
    fingerprint,
    load_trust_store,
    parse_public_key,
)

AS_ROOT = os.geteuid() == 0
NOBODY = 65534  # an owner other than us; only root can give a file away


@pytest.fixture
def trust_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    trusted = tmp_path / "trusted"
    trusted.mkdir(mode=0o755)
    monkeypatch.setenv(TRUSTED_KEYS_ENV, str(trusted))
    return trusted


def _new_public() -> tuple[str, bytes]:
    public = Ed25519PrivateKey.generate().public_key()
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public_key_hex(public), pem


def _tree(*roots: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under the roots, with its bytes and mode: what "writes nothing" is checked against."""
    found = {}
    for root in roots:
        for path in [root, *root.rglob("*")] if root.exists() else []:
            st = path.lstat()
            data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
            found[str(path)] = (data, st.st_mode)
    return found


def _sealed_run(tmp_path: Path, key_dir: Path | None = None) -> Path:
    writer = RunStore(tmp_path / "data").create("decay", "mockup", ["p"], {}, {"procedure.yaml": "x: 1\n"})
    writer.sample(0.0, "hold", {"p": 1e5})
    writer.finish("passed", "PASS", None, {"verdict": "PASS"})
    seal_run(writer.run_dir, key_dir)
    return writer.run_dir


def test_the_fingerprint_is_the_first_16_bytes_of_the_sha256_of_the_raw_key() -> None:
    public_hex, _ = _new_public()
    expected = "SHA256:" + hashlib.sha256(bytes.fromhex(public_hex)).digest()[:16].hex()
    assert fingerprint(public_hex) == expected and len(expected) == len("SHA256:") + 32


def test_key_files_hold_hex_pem_or_both() -> None:
    public_hex, pem = _new_public()
    other_hex, other_pem = _new_public()
    assert parse_public_key(public_hex.encode() + b"\n", "f") == public_hex
    assert parse_public_key(b"# bench 3\n\n  " + public_hex.upper().encode() + b"  \n", "f") == public_hex
    assert parse_public_key(pem, "f") == public_hex
    assert parse_public_key(b"# both\n" + public_hex.encode() + b"\n" + pem, "f") == public_hex
    rsa_pem = (
        generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    private_pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    refused = {
        b"": "no public key in it",
        b"# only a comment\n": "no public key in it",
        public_hex[:-1].encode(): "not a public key",
        (public_hex + "\n" + other_hex).encode(): "not a public key",
        b"\xff\xfe" + public_hex.encode(): "not text",
        public_hex.encode() + b"\n" + other_pem: "differ",
        pem + other_pem: "more than one PEM block",
        pem.replace(b"M", b"N"): "not a readable PEM public key",
        rsa_pem: "not an Ed25519 key",
        private_pem: "holds a private key",
    }
    for data, reason in refused.items():
        with pytest.raises(InputError, match=reason):
            parse_public_key(data, "f")


def test_the_own_key_comes_from_the_private_key_and_reading_writes_nothing(
    tmp_path: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRUSTED_KEYS_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # where the default trust dir is
    store = load_trust_store()
    assert (store.keys, store.problems, store.trust_dir) == ((), (), default_trust_dir())
    assert store.trust_dir == tmp_path / "config" / "leakrig" / "trusted_keys"
    assert not key_dir.exists() and not (tmp_path / "config").exists()  # nothing created

    own = public_key_hex(load_or_create_key())
    forged_hex, _ = _new_public()
    (key_dir / "signing_key.pub").write_text(forged_hex + "\n")  # the .pub is never what is trusted
    before = _tree(key_dir)
    store = load_trust_store()
    assert _tree(key_dir) == before
    assert store.own is not None and store.own.public_hex == own and store.find(forged_hex) is None
    assert [k.public_hex for k in store.keys] == [own]


def test_trusted_keys_and_one_line_per_bad_file(
    tmp_path: Path, key_dir: Path, trust_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hex_key, _ = _new_public()
    pem_hex, pem = _new_public()
    (trust_dir / "bench-3.pub").write_text(f"# bench 3\n{hex_key}\n")
    (trust_dir / "lab.pem").write_bytes(pem)
    (trust_dir / ".hidden").write_text("not read at all\n")
    bad = {
        "garbage.pub": b"garbage\n",
        "private.pem": Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "huge.pub": b"#" * (64 * 1024 + 1),
    }
    for name, data in bad.items():
        (trust_dir / name).write_bytes(data)
    writable_hex, _ = _new_public()
    (trust_dir / "writable.pub").write_text(writable_hex + "\n")
    (trust_dir / "writable.pub").chmod(0o666)
    (trust_dir / "subdir").mkdir()
    (trust_dir / "link.pub").symlink_to(trust_dir / "bench-3.pub")
    os.mkfifo(trust_dir / "fifo.pub")

    store = load_trust_store()
    assert [(k.public_hex, k.source) for k in store.keys] == [
        (hex_key, str(trust_dir / "bench-3.pub")),
        (pem_hex, str(trust_dir / "lab.pem")),
    ]
    expected_bad = {*bad, "writable.pub", "subdir", "link.pub", "fifo.pub"}
    assert len(store.problems) == len(expected_bad)
    for problem, name in zip(store.problems, sorted(expected_bad), strict=True):
        assert problem.startswith(f"{trust_dir / name}: ") and problem.endswith("; not trusted"), problem
        assert "\n" not in problem
    assert "mode 0666" in store.problems[sorted(expected_bad).index("writable.pub")]
    assert store.find(writable_hex) is None

    # `rig verify` says the same, once each, as warnings: no traceback, and its verdict stands.
    run_dir = _sealed_run(tmp_path)
    assert main(["verify", str(run_dir)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("OK\n") and "this rig's own key" in captured.out
    assert captured.err.splitlines() == [f"rig verify: warning: {p}" for p in store.problems]


@pytest.mark.skipif(not AS_ROOT, reason="giving a file to another user takes root")
@pytest.mark.usefixtures("key_dir")
def test_a_trusted_key_file_of_another_user_is_not_trusted(trust_dir: Path) -> None:
    hex_key, _ = _new_public()
    (trust_dir / "theirs.pub").write_text(hex_key + "\n")
    os.chown(trust_dir / "theirs.pub", NOBODY, NOBODY)
    store = load_trust_store()
    assert store.find(hex_key) is None
    (problem,) = store.problems
    assert re.fullmatch(
        rf"{re.escape(str(trust_dir / 'theirs.pub'))}: owned by (\S+ \()?uid {NOBODY}\)?, not by you, so it"
        r" could be anybody's key; not trusted",
        problem,
    ), problem


@pytest.mark.usefixtures("key_dir")
def test_a_trust_directory_others_can_write_trusts_nothing(trust_dir: Path) -> None:
    hex_key, _ = _new_public()
    (trust_dir / "k.pub").write_text(hex_key + "\n")
    trust_dir.chmod(0o777)
    store = load_trust_store()
    assert store.keys == ()
    assert store.problems == (
        f"{trust_dir}: group or others can write it (mode 0777), so anybody could put a key there;"
        f" chmod go-w {trust_dir}; no key trusted from it",
    )
    trust_dir.chmod(0o1777)  # sticky: others may add files, not replace ours
    assert load_trust_store().find(hex_key) is not None


def test_a_missing_trust_directory_named_by_the_variable_is_reported(
    tmp_path: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TRUSTED_KEYS_ENV, str(tmp_path / "nowhere"))
    store = load_trust_store()
    assert store.problems == (
        f"{tmp_path / 'nowhere'}: no such directory (${TRUSTED_KEYS_ENV}); no key trusted from it",
    )
    assert not (tmp_path / "nowhere").exists()


def test_check_signer_names_the_trusted_key_or_the_untrusted_one(
    tmp_path: Path, key_dir: Path, trust_dir: Path
) -> None:
    own_run = _sealed_run(tmp_path / "own")
    checked = check_signer(own_run)
    assert checked.report.ok and checked.signer is not None and checked.signer.own

    foreign_run = _sealed_run(tmp_path / "foreign", key_dir=tmp_path / "other_keys")
    other = public_key_hex(load_or_create_key(tmp_path / "other_keys"))
    checked = check_signer(foreign_run)
    assert not checked.report.ok and checked.signer is None
    assert checked.report.problems[0].startswith(f"signed by an untrusted key {fingerprint(other)} ")

    (trust_dir / "other.pub").write_text(other + "\n")
    checked = check_signer(foreign_run)
    assert checked.report.ok and checked.signer is not None and not checked.signer.own
    assert checked.signer.source == str(trust_dir / "other.pub")

    # A broken signature proves nobody signed: no key is named as the signer then.
    sig = foreign_run / "manifest.sig"
    sig.write_text("0" * 128 + "\n")
    checked = check_signer(foreign_run)
    assert checked.signer is None and len(checked.report.problems) == 1
    assert "untrusted" not in checked.report.problems[0]


def test_rig_verify_creates_no_key_and_writes_nothing(
    tmp_path: Path, key_dir: Path, trust_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = _sealed_run(tmp_path, key_dir=tmp_path / "bench_2")
    other = public_key_hex(load_or_create_key(tmp_path / "bench_2"))
    before = _tree(tmp_path)
    assert main(["verify", str(run_dir)]) == 1
    assert capsys.readouterr().out == (
        f"signature: signed by an untrusted key {fingerprint(other)} (public key {other}; not in the trust"
        f" store: no usable signing key in {key_dir}; 0 key(s) in {trust_dir})\n"
    )
    assert _tree(tmp_path) == before and not key_dir.exists()
