"""``rig keys``: show this rig's key, list the trusted ones, trust another rig's key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rig.cli import main
from rig.record.integrity import KEY_FILE, load_or_create_key, public_key_hex
from rig.record.trust import TRUSTED_KEYS_ENV, fingerprint, load_trust_store


@pytest.fixture
def trust_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    trusted = tmp_path / "config" / "trusted_keys"  # not there yet: `rig keys trust` makes it
    monkeypatch.setenv(TRUSTED_KEYS_ENV, str(trusted))
    return trusted


def _rig(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["keys", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_this_rigs_key(key_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _rig(capsys, "show")
    key = public_key_hex(load_or_create_key())
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"public key: {key}",
        f"fingerprint: {fingerprint(key)}",
        f"key file: {key_dir / KEY_FILE}",
    ]
    (key_dir / KEY_FILE).chmod(0o644)
    code, out, err = _rig(capsys, "show")
    assert code == 2 and out == "" and "group or others can read or write it (mode 0644)" in err


@pytest.mark.usefixtures("key_dir")
def test_trust_a_hex_key_or_a_file_then_list(
    tmp_path: Path, trust_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _rig(capsys, "list")[:2] == (
        0,
        f"no trusted key (no signing key in {tmp_path / 'keys'}, none in {trust_dir})\n",
    )
    own = public_key_hex(load_or_create_key())
    other_hex = public_key_hex(load_or_create_key(tmp_path / "bench_2"))
    code, out, err = _rig(capsys, "trust", other_hex.upper())
    written = trust_dir / f"{fingerprint(other_hex)[len('SHA256:') :]}.pub"
    assert (code, out, err) == (0, f"trusted: {fingerprint(other_hex)} ({written})\n", "")
    assert stat.S_IMODE(trust_dir.stat().st_mode) == 0o755 and stat.S_IMODE(written.stat().st_mode) == 0o644
    assert load_trust_store().find(other_hex) is not None

    pem_public = Ed25519PrivateKey.generate().public_key()
    pem_file = tmp_path / "lab.pem"
    pem_file.write_bytes(
        pem_public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    pem_hex = public_key_hex(pem_public)
    assert _rig(capsys, "trust", str(pem_file), "--name", "lab")[0] == 0
    # The file written holds the hex and the PEM, and reads back as the same key.
    assert (trust_dir / "lab.pub").read_text().splitlines()[1] == pem_hex

    code, out, _ = _rig(capsys, "trust", str(tmp_path / "bench_2" / "signing_key.pub"))
    assert (code, out) == (0, f"already trusted: {fingerprint(other_hex)} ({written})\n")
    code, out, _ = _rig(capsys, "trust", own)
    assert code == 0 and out.startswith(f"already trusted: {fingerprint(own)} (this rig's own key")

    code, out, err = _rig(capsys, "list")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{fingerprint(own)}  {own}  this rig's own key, {tmp_path / 'keys' / KEY_FILE}",
        f"{fingerprint(other_hex)}  {other_hex}  {written}",
        f"{fingerprint(pem_hex)}  {pem_hex}  {trust_dir / 'lab.pub'}",
    ]


@pytest.mark.usefixtures("key_dir")
def test_trust_refuses_bad_input_with_one_line(
    tmp_path: Path, trust_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "garbage").write_text("hello\n")
    other = public_key_hex(Ed25519PrivateKey.generate())
    cases = {
        ("abc",): "abc: neither 64 hex digits nor a readable file (No such file or directory)",
        (str(tmp_path / "garbage"),): "garbage: not a public key",
        (other, "--name", ".hidden"): "'.hidden': a key name is letters, digits",
        (other, "--name", "../escape"): "'../escape': a key name is letters, digits",
    }
    for args, message in cases.items():
        code, out, err = _rig(capsys, "trust", *args)
        assert code == 2 and out == "" and len(err.splitlines()) == 1 and message in err, (args, err)
    assert not trust_dir.exists()

    assert _rig(capsys, "trust", other, "--name", "lab")[0] == 0
    before = (trust_dir / "lab.pub").read_bytes()
    another = public_key_hex(Ed25519PrivateKey.generate())
    code, _, err = _rig(capsys, "trust", another, "--name", "lab")
    assert code == 2 and "lab.pub: already exists" in err
    assert (trust_dir / "lab.pub").read_bytes() == before

    trust_dir.chmod(0o777)
    code, _, err = _rig(capsys, "trust", another)
    assert code == 2 and "group or others can write it (mode 0777)" in err and "nothing written" in err
    assert sorted(p.name for p in trust_dir.iterdir()) == ["lab.pub"]
