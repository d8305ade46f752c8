"""TLS read with a key log (analysis/tls_decrypt.py), on real TLS: OpenSSL (Python's
ssl module, in memory) talks to itself with the test certificate and writes its
secrets in the NSS key log format, as Chromium does with SSLKEYLOGFILE. Every
suite read is checked byte for byte; a log without the connection's secrets, a
CBC suite and a tampered record are reported, never read as garbage."""
from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from sipscen.analysis.tls_decrypt import KeyLog, TlsConnection

ROOT = Path(__file__).resolve().parents[2]
CERT = ROOT / "examples" / "sut" / "webrtc-test.crt"
KEY = ROOT / "examples" / "sut" / "webrtc-test.key"
MESSAGES = [(True, b"REGISTER sip:127.0.0.1 SIP/2.0\r\n" + b"x" * 3000),
            (False, b"SIP/2.0 200 OK\r\n\r\n"), (True, b"INVITE " + b"y" * 20000),
            (False, b"SIP/2.0 180 Ringing\r\n\r\n")]


def converse(keylog: Path, version: str, ciphers: str | None = None):
    """A TLS conversation in memory: [(from_client, raw bytes)] in the order they went,
    and the suite OpenSSL chose. The client logs its secrets to ``keylog``."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(CERT, KEY)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname, client_ctx.verify_mode = False, ssl.CERT_NONE
    client_ctx.keylog_filename = str(keylog)
    tls = getattr(ssl.TLSVersion, version)
    for ctx in (server_ctx, client_ctx):
        ctx.minimum_version = ctx.maximum_version = tls
        if ciphers:
            ctx.set_ciphers(ciphers)
    bios = [ssl.MemoryBIO() for _ in range(4)]
    client = client_ctx.wrap_bio(bios[0], bios[1])
    server = server_ctx.wrap_bio(bios[2], bios[3], server_side=True)
    wire: list[tuple[bool, bytes]] = []

    def pump() -> None:
        for from_client, out, into in ((True, bios[1], bios[2]), (False, bios[3], bios[0])):
            data = out.read()
            if data:
                wire.append((from_client, data))
                into.write(data)

    for _ in range(20):
        for end in (client, server):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                pass
        pump()
        if client.server_side is False and _done(client) and _done(server):
            break
    for from_client, text in MESSAGES:
        (client if from_client else server).write(text)
        pump()
        got = b""
        while len(got) < len(text):
            got += (server if from_client else client).read(65536)
            pump()
        assert got == text
    return wire, client.cipher()[0]


def _done(end) -> bool:
    try:
        end.do_handshake()
        return True
    except ssl.SSLWantReadError:
        return False


def read_back(wire, keylog: Path) -> tuple[TlsConnection, dict[bool, bytes]]:
    conn = TlsConnection(KeyLog.read([keylog]))
    plain = {True: b"", False: b""}
    for from_client, data in wire:
        for i in range(0, len(data), 1000):         # as TCP segments would cut it
            plain[from_client] += b"".join(conn.feed(from_client, data[i:i + 1000]))
    return conn, plain


def wanted() -> dict[bool, bytes]:
    return {side: b"".join(t for s, t in MESSAGES if s == side) for side in (True, False)}


@pytest.mark.parametrize("version, ciphers", [
    ("TLSv1_3", None),
    ("TLSv1_2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("TLSv1_2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    ("TLSv1_2", "ECDHE-ECDSA-CHACHA20-POLY1305"),
])
def test_every_application_byte_read_back(tmp_path, version, ciphers):
    keylog = tmp_path / "keys.log"
    wire, suite = converse(keylog, version, ciphers)
    conn, plain = read_back(wire, keylog)
    assert conn.readable and conn.failed == 0, (suite, conn.unsupported)
    assert plain == wanted(), suite


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"])
def test_tls13_suites_read_back(tmp_path, suite):
    """TLS 1.3 suites are chosen through OpenSSL's configuration (Python's ssl cannot),
    so the conversation runs in a child with its own OPENSSL_CONF."""
    conf = tmp_path / "openssl.cnf"
    conf.write_text("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\n"
                    "system_default = sys\n[sys]\nCiphersuites = " + suite + "\n")
    keylog = tmp_path / "keys.log"
    out = subprocess.run([sys.executable, __file__, str(keylog)], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "OPENSSL_CONF": str(conf)},
                         check=True)
    result = json.loads(out.stdout)
    assert result["suite"] == suite
    wire = [(side, bytes.fromhex(data)) for side, data in result["wire"]]
    conn, plain = read_back(wire, keylog)
    assert conn.readable and conn.failed == 0
    assert plain == wanted()


def test_without_its_secrets_nothing_is_read(tmp_path):
    keylog = tmp_path / "keys.log"
    wire, _ = converse(keylog, "TLSv1_3")
    other = tmp_path / "other.log"
    converse(other, "TLSv1_3")                    # another connection's secrets only
    conn, plain = read_back(wire, other)
    assert conn.missing and plain == {True: b"", False: b""}


def test_a_cbc_suite_is_reported_not_read(tmp_path):
    keylog = tmp_path / "keys.log"
    wire, suite = converse(keylog, "TLSv1_2", "ECDHE-ECDSA-AES128-SHA256")
    conn, plain = read_back(wire, keylog)
    assert "0xc023" in conn.unsupported and plain == {True: b"", False: b""}, suite


def test_a_tampered_record_is_dropped_not_read_as_garbage(tmp_path):
    keylog = tmp_path / "keys.log"
    wire, _ = converse(keylog, "TLSv1_3")
    last = max(i for i, (side, _) in enumerate(wire) if side)    # the client's INVITE
    side, data = wire[last]
    wire[last] = (side, data[:-20] + bytes(b ^ 0xFF for b in data[-20:]))
    conn, plain = read_back(wire, keylog)
    assert conn.failed == 1
    whole = wanted()[True]
    assert len(plain[True]) < len(whole) and whole.startswith(plain[True])   # a gap, no garbage
    assert plain[False] == wanted()[False]


if __name__ == "__main__":       # the child of test_tls13_suites_read_back
    conversation, chosen = converse(Path(sys.argv[1]), "TLSv1_3")
    print(json.dumps({"suite": chosen, "wire": [(s, d.hex()) for s, d in conversation]}))
