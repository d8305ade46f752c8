"""Is a local port bound? Read from /proc/net, so checking never races the owner.

Binding a probe socket to see whether a port is taken would, for an instant,
take the port itself: a SIPp starting at that moment would fail with exit 254.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

_TCP_LISTEN = "0A"


def _proc_address(host: str) -> tuple[str, str]:
    """'127.0.0.1' -> ('0100007F', 'udp'); '::1' -> its /proc/net/*6 form."""
    ip = ipaddress.ip_address(host.strip("[]"))
    packed = ip.packed
    words = [packed[i:i + 4][::-1].hex().upper() for i in range(0, len(packed), 4)]
    return "".join(words), ("6" if ip.version == 6 else "")


def _sockets(kind: str, host: str) -> list[tuple[int, str]]:
    """(port, inode) of sockets bound on ``host`` or the wildcard, for udp|tcp."""
    addr, six = _proc_address(host)
    wildcard = "0" * len(addr)
    out: list[tuple[int, str]] = []
    try:
        lines = Path(f"/proc/net/{kind}{six}").read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        fields = line.split()
        if len(fields) < 10:
            continue
        local, state, inode = fields[1], fields[3], fields[9]
        ip_hex, _, port_hex = local.partition(":")
        if ip_hex not in (addr, wildcard):
            continue
        if kind == "tcp" and state != _TCP_LISTEN:
            continue
        out.append((int(port_hex, 16), inode))
    return out


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def udp_or_tcp_bound(host: str, port: int, transport: str = "udp",
                     pid: int | None = None) -> bool:
    """Whether something (process ``pid`` when given) listens on host:port for the
    transport (tls counts as tcp)."""
    kind = "udp" if transport == "udp" else "tcp"
    inodes = [inode for p, inode in _sockets(kind, host) if p == port]
    if pid is None:
        return bool(inodes)
    return bool(set(inodes) & _socket_inodes(pid))
