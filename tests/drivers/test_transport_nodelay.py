"""The TCP transport sends each command at once: a relay command (no reply) and the error query
after it must not wait on the instrument's delayed ACK (~40 ms a valve move without it)."""

from __future__ import annotations

import socket
import threading
import time

from drivers.transport import VisaTransport


def test_a_tcpip_socket_resource_has_nodelay_set_and_keeps_it_on_reconnect() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    transport = VisaTransport(f"TCPIP::127.0.0.1::{port}::SOCKET", read_termination="\n", timeout_s=1.0)
    try:
        sessions = transport._rm.visalib.sessions  # pyvisa-py's session of this resource
        sock = sessions[transport._resource.session].interface
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        transport.reconnect()
        sock = sessions[transport._resource.session].interface
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        # Two small writes with no reply between them both arrive (the option changes only when).
        deadline = time.monotonic() + 2.0
        while len(accepted) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        peer = accepted[-1]
        transport.write(b"ROUT:CLOS (@201)\n")
        transport.write(b"SYST:ERR?\n")
        received = b""
        peer.settimeout(1.0)
        while received.count(b"\n") < 2:
            received += peer.recv(256)
        assert received == b"ROUT:CLOS (@201)\nSYST:ERR?\n"
    finally:
        transport.close()
        for conn in accepted:
            conn.close()
        server.close()
