"""``rig keys``: this rig's signing key and the keys it trusts (see :mod:`rig.record.trust`)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rig.errors import InputError
from rig.record.integrity import KEY_FILE, default_key_dir, load_or_create_key, public_key_hex
from rig.record.trust import (
    MAX_KEY_FILE_BYTES,
    check_ready_to_sign,
    fingerprint,
    load_trust_store,
    parse_public_key,
    write_trusted_key,
)


def register(sub: Any) -> None:
    """Add the ``keys`` subcommand: ``show``, ``list``, ``trust FILE_OR_HEX``."""
    p = sub.add_parser(
        "keys",
        help="this rig's signing key and the keys it trusts",
        description=(
            "The trust store: `rig verify` accepts a record sealed by this rig's own key or by a key in"
            " the trusted-keys directory ($LEAKRIG_TRUSTED_KEYS, else trusted_keys in the config"
            " directory). Remove a file from that directory to stop trusting its key."
        ),
    )
    keys_sub = p.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser(
        "show", help="print this rig's public key and fingerprint (the key is created on first use)"
    )
    keys_sub.add_parser("list", help="list the trusted keys")
    trust = keys_sub.add_parser("trust", help="add a public key to the trusted keys")
    trust.add_argument(
        "key",
        metavar="FILE_OR_HEX",
        help="the 64-hex public key (as `rig keys show` prints it on the signing rig),"
        " or a file holding it or a PEM public key",
    )
    trust.add_argument("--name", help="file name in the trusted-keys directory (default: the fingerprint)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``rig keys show|list|trust``: exit 0, or 2 with one line for bad input."""
    if args.keys_command == "show":
        check_ready_to_sign()
        key = public_key_hex(load_or_create_key())
        print(f"public key: {key}")
        print(f"fingerprint: {fingerprint(key)}")
        print(f"key file: {default_key_dir() / KEY_FILE}")
        return 0
    if args.keys_command == "list":
        store = load_trust_store()
        _warn(store.problems)
        for trusted in store.keys:
            print(f"{trusted.fingerprint}  {trusted.public_hex}  {trusted.source}")
        if not store.keys:
            print(f"no trusted key (no signing key in {store.key_dir}, none in {store.trust_dir})")
        return 0
    public_hex = _key_argument(args.key)
    store = load_trust_store()
    # A trust directory that is not there yet is no news: it is about to be made.
    _warn([p for p in store.problems if not p.startswith(f"{store.trust_dir}: no such directory")])
    already = store.find(public_hex)
    if already is not None:
        print(f"already trusted: {already.describe()}")
        return 0
    written = write_trusted_key(public_hex, args.name or fingerprint(public_hex)[len("SHA256:") :])
    print(f"trusted: {fingerprint(public_hex)} ({written})")
    return 0


def _warn(problems: Iterable[str]) -> None:
    for problem in problems:
        print(f"rig keys: warning: {problem}", file=sys.stderr)


def _key_argument(value: str) -> str:
    """The hex key that ``value`` is, or that the file ``value`` holds."""
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return value.lower()
    try:
        with Path(value).open("rb") as fh:
            data = fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or exc
        raise InputError(f"{value}: neither 64 hex digits nor a readable file ({reason})") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise InputError(f"{value}: too large to be a key file")
    return parse_public_key(data, value)
