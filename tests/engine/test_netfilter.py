"""core/netfilter.py on real sockets: a rule drops what it says on the way into
the port range, counts what it saw, leaves other sources alone, and is gone
after remove() (IPv4 through iptables, IPv6 through ip6tables)."""
from __future__ import annotations

import os
import socket
import subprocess

import pytest

from sipscen.core import netfilter
from sipscen.core.errors import InfrastructureError
from sipscen.core.ports import PortAllocator

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="iptables needs root")]
PACKETS = 200


def _send(address: str, loss: float, from_party: bool = True) -> tuple[int, dict, str]:
    """(datagrams received, the rule's counters, its chain) for PACKETS datagrams
    sent to a port of the impaired range, from a port of the parties' range (or not)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    ports = PortAllocator(address)
    low, high = ports.range(4, address)
    src_low, src_high = ports.range(2, address)
    rule = netfilter.LossRule(address, low, high, loss, sources=((src_low, src_high),))
    rx = socket.socket(family, socket.SOCK_DGRAM)
    tx = socket.socket(family, socket.SOCK_DGRAM)
    try:
        rx.bind((address, low + 1))
        rx.settimeout(0.5)
        tx.bind((address, src_low if from_party else 0))
        rule.install()
        for i in range(PACKETS):
            tx.sendto(i.to_bytes(4, "big"), (address, low + 1))
        got = 0
        try:
            while got < PACKETS:
                rx.recv(64)
                got += 1
        except socket.timeout:
            pass
        counts = rule.counters()
    finally:
        rule.remove()
        rx.close()
        tx.close()
        ports.release()
    return got, counts, rule.chain


def _chains(address: str) -> str:
    tool = netfilter.tool_for(address)
    return subprocess.run([tool, "-w", "5", "-S"], capture_output=True, text=True).stdout


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_every_packet_dropped_at_100_none_at_0(address):
    if netfilter.tool_for(address) is None:
        pytest.skip("no iptables/ip6tables")
    got, counts, chain = _send(address, 100.0)
    assert got == 0 and counts == {"packets": PACKETS, "dropped": PACKETS}
    assert chain not in _chains(address)
    got, counts, chain = _send(address, 0.0)          # the negative control
    assert got == PACKETS and counts == {"packets": PACKETS, "dropped": 0}
    assert chain not in _chains(address)


def test_a_share_is_dropped_and_counted():
    got, counts, _ = _send("127.0.0.1", 25.0)
    assert counts["packets"] == PACKETS and got == PACKETS - counts["dropped"]
    assert 20 <= counts["dropped"] <= 80, counts        # binomial(200, 0.25): 50 +- 6


def test_another_source_is_left_alone():
    got, counts, _ = _send("127.0.0.1", 100.0, from_party=False)
    assert got == PACKETS and counts == {"packets": 0, "dropped": 0}


def test_install_says_why_without_iptables(monkeypatch):
    monkeypatch.setattr(netfilter.shutil, "which", lambda name: None)
    rule = netfilter.LossRule("127.0.0.1", 20000, 20003, 5.0)
    with pytest.raises(InfrastructureError, match="'iptables' not found on PATH"):
        rule.install()
    assert not rule.installed and rule.chain == ""
