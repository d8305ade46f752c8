"""Which local TCP port a browser's WebSocket uses: established connections to a
server address, read from /proc/net/tcp and /proc/net/tcp6.

A page cannot tell its own socket's port, and the capture needs it to know which
SIP messages are the agent's: the agent reads the connections to its server
before and after its WebSocket opens (one agent at a time, under the host's
connect lock) and takes the new one.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path

ESTABLISHED = "01"


def _address(hex_addr: str) -> str | None:
    """'0100007F:1F90' (as /proc prints it: 32-bit words in host order) -> '127.0.0.1:8080'."""
    host, _, port = hex_addr.partition(":")
    try:
        raw = bytes.fromhex(host)
        words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
        ip = ipaddress.ip_address(words)
        number = int(port, 16)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return f"[{ip}]:{number}" if ip.version == 6 else f"{ip}:{number}"


def connections_to(host: str, port: int, proc: Path = Path("/proc/net")) -> set[str]:
    """Local 'ip:port' of every established TCP connection to ``host:port``."""
    ip = ipaddress.ip_address(host.strip("[]"))
    want = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
    found: set[str] = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4 or fields[3] != ESTABLISHED:
                continue
            if _address(fields[2]) == want:
                local = _address(fields[1])
                if local:
                    found.add(local)
    return found
