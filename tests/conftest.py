"""Shared fixtures for the whole suite."""
import io
import json
import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from sipscen.cli import main

# A suite started in the background of a shell without job control (`cmd &` in a
# script, nohup) inherits SIGINT ignored, and Python then leaves it ignored: the
# interrupt tests, which send SIGINT to this process, would wait for ever (a CI run
# launched that way hung in test_stuck_scenario_thread). Ctrl-C is Python's own again.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def sipscen():
    """Run the command line in-process: ``sipscen("run", path, ...) -> (code, out, err)``."""
    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        code = main([str(a) for a in argv], stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()
    return run


TOKEN_VAR = "SIPSCEN_TEST_TOKEN"


def processes_with_token(token: str) -> list[str]:
    """Processes (other than this one) whose environment carries ``token``:
    everything a test started, directly or through sipscen, inherits it —
    also after being orphaned — and nothing else does."""
    found = []
    needle = f"{TOKEN_VAR}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (entry / "stat").read_text().split()[2]
                if state != "Z":
                    found.append(f"{entry.name} {cmd}")
        except OSError:
            continue
    return found


@pytest.fixture
def no_leftovers(monkeypatch):
    """Fails the test if any process it started (sipp, tcpdump, pjsua worker,
    kamailio, a sipscen CLI) survives it."""
    token = uuid.uuid4().hex
    monkeypatch.setenv(TOKEN_VAR, token)
    yield
    left = processes_with_token(token)
    assert not left, f"processes left running: {left}"


@pytest.fixture
def write_scenario(tmp_path):
    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path
    return write


@pytest.fixture
def run_json(sipscen, tmp_path):
    """Write ``text`` as a scenario and run it quietly with a JSON report, artifacts
    under ``tmp_path / "art"``: ``run_json(text) -> (code, scenario dict, out + err)``."""
    def run(text: str, name: str = "s.yaml"):
        path = tmp_path / name
        path.write_text(text)
        report = tmp_path / f"{name}.json"
        code, out, err = sipscen("run", path, "--json", report, "--artifacts", tmp_path / "art",
                                 "-q")
        return code, json.loads(report.read_text())["scenarios"][0], out + err
    return run


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate and key for 127.0.0.1 (no external tool)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return {"cert": "cert.pem", "key": "key.pem"}   # relative to the scenario's folder


@pytest.fixture
def tmpfs(tmp_path):
    """A real, small tmpfs (needs root): ``tmpfs("64k") -> Path`` of its mount point,
    unmounted (lazily, in case a process still holds a file there) after the test."""
    mounts = []

    def mount(size: str):
        point = tmp_path / f"tmpfs{len(mounts)}"
        point.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                       check=True)
        mounts.append(point)
        return point
    yield mount
    for point in reversed(mounts):
        subprocess.run(["umount", "-l", str(point)], check=True)
