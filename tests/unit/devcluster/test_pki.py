from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sophia_platform.devcluster.pki import create_pki


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_certificates_chain_to_the_ca_and_carry_the_right_identities(tmp_path: Path) -> None:
    pki = create_pki(tmp_path / "pki")
    ca = _cert(pki.ca_cert)
    serving = _cert(pki.serving_cert)
    admin = _cert(pki.admin_cert)

    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    for leaf in (serving, admin):
        assert leaf.issuer == ca.subject
        public_key = ca.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        leaf.verify_directly_issued_by(ca)

    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    serving_usage = serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in serving_usage

    orgs = admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [o.value for o in orgs] == ["system:masters"]
    admin_usage = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in admin_usage


def test_every_file_is_private(tmp_path: Path) -> None:
    pki = create_pki(tmp_path / "pki")
    assert pki.exists()
    for path in pki.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(pki.directory.stat().st_mode) == 0o700
