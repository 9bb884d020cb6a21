"""Who may do what at the station: the operator's token, and where a request came from.

Anything that moves a valve or answers a prompt needs the token (``Authorization: Bearer``);
viewing is open when the station listens on loopback only, and needs the token otherwise (a
browser's event stream cannot send headers, so ``?token=`` is taken for reads too).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection


def new_token() -> str:
    """A fresh operator token (printed at start)."""
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Access:
    """The station's rule: ``token`` for operators; reads open when ``open_reads``."""

    token: str
    open_reads: bool

    def _given(self, conn: HTTPConnection) -> str | None:
        header = conn.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value:
            return value.strip()
        return None

    def is_operator(self, conn: HTTPConnection) -> bool:
        """Whether the request carries the operator's token in its Authorization header."""
        given = self._given(conn)
        # compare_digest: how much of a guess matched must not show in the time taken.
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def may_view(self, conn: HTTPConnection) -> bool:
        """Whether the request may read (open reads, the header, or ``?token=``)."""
        if self.open_reads or self.is_operator(conn):
            return True
        query = conn.query_params.get("token")
        return query is not None and hmac.compare_digest(query.encode(), self.token.encode())

    def require_operator(self, conn: HTTPConnection) -> None:
        """401 unless the request carries the operator's token."""
        if not self.is_operator(conn):
            raise HTTPException(401, "this needs the operator's token (Authorization: Bearer …)")

    def require_viewer(self, conn: HTTPConnection) -> None:
        """401 unless the request may read."""
        if not self.may_view(conn):
            raise HTTPException(401, "this station shows its runs to its operators only (token needed)")


def origin(conn: HTTPConnection) -> str:
    """Where a request came from, as the record says it: ``station (client 127.0.0.1)``."""
    client = conn.client
    host = client.host if client is not None else "unknown"
    return f"station (client {host})"
