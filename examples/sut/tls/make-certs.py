"""Write the example SUT's test certificates (run once; the files are committed).

A test CA (ca.pem), the SUT's certificate for 127.0.0.1 and ::1 (sut.pem), a
client certificate for the agents (client.pem), and a self-signed one no CA
vouches for (rogue.pem, for negative cases), each with its key. TEST ONLY:
the keys are public in this repository; the certificates are valid for 30
years so that the library never expires under CI. Needs `cryptography`.

    python examples/sut/tls/make-certs.py
"""
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
YEARS = datetime.timedelta(days=365 * 30)


def _key(name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    (HERE / f"{name}-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    return key


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sipscen test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def main() -> None:
    ca_key = _key("ca")
    ca = (x509.CertificateBuilder().subject_name(_name("sipscen test CA"))
          .issuer_name(_name("sipscen test CA")).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(NOW).not_valid_after(NOW + YEARS)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    (HERE / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for serial, (name, cn, sans, usage) in enumerate((
            ("sut", "127.0.0.1", ["127.0.0.1", "::1"], ExtendedKeyUsageOID.SERVER_AUTH),
            ("client", "sipscen agent", ["127.0.0.1", "::1"], ExtendedKeyUsageOID.CLIENT_AUTH),
    ), start=2):
        key = _key(name)
        cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(serial)
                .not_valid_before(NOW).not_valid_after(NOW + YEARS)
                .add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address(a)) for a in sans]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        (HERE / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key = _key("rogue")
    rogue = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
             .issuer_name(_name("127.0.0.1")).public_key(key.public_key()).serial_number(9)
             .not_valid_before(NOW).not_valid_after(NOW + YEARS)
             .add_extension(x509.SubjectAlternativeName(
                 [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
             .sign(key, hashes.SHA256()))
    (HERE / "rogue.pem").write_bytes(rogue.public_bytes(serialization.Encoding.PEM))


if __name__ == "__main__":
    main()
