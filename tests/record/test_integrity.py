"""Run-record integrity: any changed byte of any file of a sealed run is found and named."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from rig.cli import main
from rig.errors import InputError
from rig.record.integrity import (
    MANIFEST,
    SIGNATURE,
    default_key_dir,
    load_or_create_key,
    public_key_hex,
    reseal_if_intact,
    seal_run,
    verify_run,
)
from rig.record.run_store import RunStore
from rig.record.trust import default_trust_dir, fingerprint


@pytest.fixture
def run_dir(tmp_path: Path, key_dir: Path) -> Path:
    """A finished run with extra files in a subdirectory, sealed."""
    writer = RunStore(tmp_path / "data").create(
        "decay",
        "mockup",
        ["p_article", "t_article"],
        {"seed": 3},
        {"procedure.yaml": "name: decay\n", "bench.yaml": "name: mockup\n"},
    )
    for i in range(20):
        writer.sample(float(i), "hold", {"p_article": 2e5 - i * 0.5, "t_article": 293.15})
    writer.event(0.0, "step", "hold started")
    writer.finish("passed", "PASS", None, {"measurements": {"leak": {"value": 1e-6}}})
    (writer.run_dir / "notes.txt").write_text("operator: A. N. Other\n")
    (writer.run_dir / "plots").mkdir()
    (writer.run_dir / "plots" / "decay.png").write_bytes(bytes(range(256)))
    (writer.run_dir / "plots" / "deeper").mkdir()
    (writer.run_dir / "plots" / "deeper" / "x.bin").write_bytes(b"\x00")  # one byte: first = last
    seal_run(writer.run_dir)
    return writer.run_dir


def _files(run_dir: Path) -> list[str]:
    return sorted(p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file())


def _rig_verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["verify", *args])
    return code, capsys.readouterr().out.splitlines()


def test_a_sealed_run_verifies(run_dir: Path, key_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = json.loads((run_dir / MANIFEST).read_text())
    assert set(manifest) == {"version", "algorithm", "files", "public_key", "signed_at"}
    assert list(manifest["files"]) == sorted(manifest["files"])
    assert set(manifest["files"]) == set(_files(run_dir)) - {MANIFEST, SIGNATURE}
    assert {"samples.csv", "events.jsonl", "run.json", "plots/decay.png", "plots/deeper/x.bin"} <= set(
        manifest["files"]
    )
    pub = (key_dir / "signing_key.pub").read_text().strip()
    assert manifest["public_key"] == pub

    report = verify_run(run_dir, pub)
    assert report.ok and report.public_key == pub
    assert (report.altered, report.added, report.missing, report.problems) == ([], [], [], [])
    code, out = _rig_verify(capsys, str(run_dir), "--public-key", pub.upper())
    assert (code, out[0]) == (0, "OK")
    assert pub in out[1]


def _mutations(size: int) -> list[tuple[int, int]]:
    """(position, xor mask) pairs: first, middle and last byte, each a one-bit and an all-bits flip."""
    positions = sorted({0, size // 2, size - 1})
    return [(pos, mask) for pos in positions for mask in (0x01, 0xFF)]


def test_every_changed_byte_of_every_file_is_found_and_named(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = _files(run_dir)
    assert MANIFEST in names and SIGNATURE in names and "plots/deeper/x.bin" in names
    checked = 0
    for name in names:
        path = run_dir / name
        original = path.read_bytes()
        for pos, mask in _mutations(len(original)):
            changed = bytearray(original)
            changed[pos] ^= mask
            path.write_bytes(bytes(changed))
            code, out = _rig_verify(capsys, str(run_dir))
            assert code == 1, (name, pos, mask, out)
            assert any(line.endswith(f" {name}") or f" {name}:" in line for line in out), (name, out)
            if name not in (MANIFEST, SIGNATURE):
                assert out == [f"altered: {name}"]
            checked += 1
        path.write_bytes(original)
    assert checked >= 6 * len(names) - 4  # the one-byte file has a single position
    assert _rig_verify(capsys, str(run_dir))[0] == 0  # every file restored, so it is intact again


def test_every_byte_of_the_signature_matters(run_dir: Path) -> None:
    # Including flips that keep it hex (0 -> 1), change only case (a -> A) or touch the newline.
    path = run_dir / SIGNATURE
    original = path.read_bytes()
    for pos in range(len(original)):
        for mask in (0x01, 0x20):
            changed = bytearray(original)
            changed[pos] ^= mask
            path.write_bytes(bytes(changed))
            report = verify_run(run_dir)
            assert not report.ok and report.problems and report.problems[0].startswith(SIGNATURE), pos
    path.write_bytes(original)
    assert verify_run(run_dir).ok


def test_changed_length_missing_added_and_renamed_files(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = run_dir / "samples.csv"
    original = samples.read_bytes()
    samples.write_bytes(original + b"\n")
    assert _rig_verify(capsys, str(run_dir)) == (1, ["altered: samples.csv"])
    samples.write_bytes(original[:-1])
    assert _rig_verify(capsys, str(run_dir)) == (1, ["altered: samples.csv"])
    samples.write_bytes(b"")
    assert _rig_verify(capsys, str(run_dir)) == (1, ["altered: samples.csv"])
    samples.write_bytes(original)

    (run_dir / "events.jsonl").unlink()
    assert _rig_verify(capsys, str(run_dir)) == (1, ["missing: events.jsonl"])
    (run_dir / "plots" / "extra.txt").write_text("")
    (run_dir / "plots" / "decay.png").rename(run_dir / "plots" / "decay2.png")
    code, out = _rig_verify(capsys, str(run_dir))
    assert code == 1
    assert out == [
        "added: plots/decay2.png",
        "added: plots/extra.txt",
        "missing: events.jsonl",
        "missing: plots/decay.png",
    ]


def test_a_deleted_or_mangled_manifest_or_signature_is_named(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signature = (run_dir / SIGNATURE).read_bytes()
    (run_dir / SIGNATURE).unlink()
    assert _rig_verify(capsys, str(run_dir)) == (1, [f"signature: {SIGNATURE}: missing"])
    (run_dir / SIGNATURE).write_bytes(signature)

    manifest = (run_dir / MANIFEST).read_bytes()
    (run_dir / MANIFEST).unlink()
    code, out = _rig_verify(capsys, str(run_dir))
    assert code == 1 and out == [f"signature: {MANIFEST}: missing"]

    # A manifest edited to agree with an edited file still fails: the signature covers it.
    (run_dir / "notes.txt").write_text("operator: somebody else\n")
    doc = json.loads(manifest)
    doc["files"]["notes.txt"] = "0" * 64
    (run_dir / MANIFEST).write_text(json.dumps(doc, indent=2) + "\n")
    code, out = _rig_verify(capsys, str(run_dir))
    assert code == 1 and len(out) == 2
    assert MANIFEST in out[0] and SIGNATURE in out[0] and out[1] == "altered: notes.txt"
    (run_dir / MANIFEST).write_text("[]")
    assert _rig_verify(capsys, str(run_dir)) == (1, [f"signature: {MANIFEST}: malformed (not a JSON object)"])


def test_resealing_with_another_key_is_caught_by_the_trust_store(
    run_dir: Path, tmp_path: Path, key_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trusted = public_key_hex(load_or_create_key())
    (run_dir / "results.json").write_text('{"verdict": "PASS", "forged": true}\n')
    forger = seal_run(run_dir, key_dir=tmp_path / "forger")
    assert forger != trusted
    # Self-consistent, so the signature alone verifies: which is why the signer must be trusted.
    assert verify_run(run_dir).ok
    code, out = _rig_verify(capsys, str(run_dir))
    assert code == 1
    assert out == [
        f"signature: signed by an untrusted key {fingerprint(forger)} (public key {forger}; not in the"
        f" trust store: this rig's own key {fingerprint(trusted)}; 0 key(s) in {default_trust_dir()})"
    ]
    code, out = _rig_verify(capsys, str(run_dir), "--public-key", trusted)
    assert code == 1
    assert out == [f"signature: {MANIFEST}: signed with public key {forger}, not the trusted {trusted}"]


def test_verify_refuses_bad_input_with_exit_2(
    tmp_path: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["verify", str(tmp_path / "empty")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["verify", str(run_dir), "--public-key", "abc"]) == 2
    assert "64 hex digits" in capsys.readouterr().err


def test_verify_refuses_a_directory_that_is_not_a_run_before_reading_it(tmp_path: Path) -> None:
    # A terabyte of holes: hashing it would take many minutes, refusing it takes none.
    big = tmp_path / "not_a_run"
    big.mkdir()
    with (big / "disk.img").open("wb") as fh:
        try:
            fh.truncate(1 << 40)
        except OSError:
            pytest.skip("this file system has no sparse files")
    for target in (big, Path("/")):
        proc = subprocess.run(
            [sys.executable, "-m", "rig", "verify", str(target)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (proc.returncode, proc.stdout) == (2, "")
        assert proc.stderr == (
            f"rig verify: error: {target}: not a run directory (no {MANIFEST}, {SIGNATURE} or run.json)\n"
        )
    with pytest.raises(InputError, match="not a run directory"):
        reseal_if_intact(big)


def test_symlinks_are_refused_when_sealing_and_reported_when_verifying(run_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("time,step\n")
    (run_dir / "link.csv").symlink_to(outside)
    report = verify_run(run_dir)
    assert (report.ok, report.added) == (False, ["link.csv"])
    with pytest.raises(InputError, match=r"link\.csv"):
        seal_run(run_dir)
    (run_dir / "link.csv").unlink()
    (run_dir / "samples.csv").unlink()
    (run_dir / "samples.csv").symlink_to(outside)  # same name, now pointing out of the run
    report = verify_run(run_dir)
    assert (report.ok, report.altered) == (False, ["samples.csv"])


def test_the_key_is_created_once_private_and_reused(key_dir: Path, tmp_path: Path) -> None:
    assert default_key_dir() == key_dir
    assert not key_dir.exists()
    key = load_or_create_key()
    pem = key_dir / "signing_key.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert (key_dir / "signing_key.pub").read_text() == public_key_hex(key) + "\n"
    before = pem.read_bytes()
    again = load_or_create_key(key_dir)
    assert public_key_hex(again) == public_key_hex(key)
    assert pem.read_bytes() == before
    assert sorted(p.name for p in key_dir.iterdir()) == ["signing_key.pem", "signing_key.pub"]

    pem.write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(InputError, match=r"signing_key\.pem"):
        load_or_create_key()
    assert "garbage" in pem.read_text()  # a corrupt key is reported, never replaced


def test_the_default_key_dir_is_in_the_user_config_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEAKRIG_KEY_DIR", raising=False)
    assert default_key_dir() == Path(platformdirs.user_config_dir("leakrig", appauthor=False)) / "keys"


def test_reseal_accepts_only_the_named_additions(run_dir: Path) -> None:
    (run_dir / "certificate.json").write_text("{}\n")
    (run_dir / "certificate.pdf").write_bytes(b"%PDF-1.7\n")
    with pytest.raises(InputError, match=r"added: certificate\.json; added: certificate\.pdf"):
        reseal_if_intact(run_dir)
    reseal_if_intact(run_dir, adding=["certificate.json", "./certificate.pdf"])
    assert verify_run(run_dir).ok
    assert "certificate.pdf" in json.loads((run_dir / MANIFEST).read_text())["files"]

    # A certificate written again is a named change too; anything else changed is refused.
    (run_dir / "certificate.json").write_text('{"v": 2}\n')
    reseal_if_intact(run_dir, adding=["certificate.json"])
    (run_dir / "samples.csv").write_text("time,step\n")
    (run_dir / "certificate.json").write_text('{"v": 3}\n')
    with pytest.raises(InputError, match=r"altered: samples\.csv"):
        reseal_if_intact(run_dir, adding=["certificate.json"])
    assert not verify_run(run_dir).ok  # the refused reseal wrote nothing


def test_reseal_refuses_a_run_whose_seal_is_broken(run_dir: Path) -> None:
    (run_dir / MANIFEST).unlink()
    with pytest.raises(InputError, match=r"manifest\.json: missing"):
        reseal_if_intact(run_dir)


def test_rig_verify_as_a_process(run_dir: Path) -> None:
    with (run_dir / "events.jsonl").open("ab") as fh:
        fh.write(b"x")
    proc = subprocess.run(
        [sys.executable, "-m", "rig", "verify", str(run_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (1, "altered: events.jsonl\n")
