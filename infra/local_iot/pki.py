"""The local certificate authority: what AWS IoT's certificate registry is to a gateway.

AWS IoT authenticates a device by its X.509 client certificate and knows which thing the
certificate is attached to. Locally one CA (created on first use in a directory, kept
across restarts so issued device certificates stay valid) signs the broker's server
certificate and one certificate per thing. The subject's common name is the thing the
certificate is attached to; a certificate issued with ``attached=False`` carries the
organizational unit ``unattached`` and stands for a certificate attached to no thing
(``iot:Connection.Thing.IsAttached`` false, the thing variables unresolved).

Keys are EC P-256 (what AWS IoT's CreateKeysAndCertificate also offers); files are PEM.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .errors import CertificateError

# AWS IoT thing names: 1..128 of [a-zA-Z0-9:_-] (CreateThing's pattern).
THING_NAME = re.compile(r"[a-zA-Z0-9:_-]{1,128}")
UNATTACHED_UNIT = "unattached"
VALID_DAYS = 3650
_CA_NAME = "Powerlet local IoT CA"


@dataclass(frozen=True)
class DeviceCredentials:
    """What a device needs for mutual TLS: its certificate and key, and the CA to trust."""

    cert_path: Path
    key_path: Path
    ca_path: Path


@dataclass(frozen=True)
class Identity:
    """Who presented a certificate: the thing it is attached to, or None."""

    thing_name: str | None
    common_name: str

    @property
    def attached(self) -> bool:
        return self.thing_name is not None


class LocalCa:
    """A CA in ``directory`` (``ca.pem``, ``ca.key``); created if absent."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca_path = directory / "ca.pem"
        self._key_path = directory / "ca.key"
        if not self.ca_path.exists() or not self._key_path.exists():
            self._create()
        self._key = serialization.load_pem_private_key(self._key_path.read_bytes(), None)
        self._cert = x509.load_pem_x509_certificate(self.ca_path.read_bytes())

    def _create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _CA_NAME)])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256())
        )
        _write_key(self._key_path, key)
        self.ca_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def server_credentials(self) -> DeviceCredentials:
        """The broker's certificate, for 127.0.0.1 and localhost."""
        names: list[x509.GeneralName] = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        return self._issue("server", x509.Name([_cn("localhost")]), names, server=True)

    def issue(self, thing_name: str, attached: bool = True) -> DeviceCredentials:
        """A device certificate attached to ``thing_name`` (or, ``attached=False``, to none)."""
        if THING_NAME.fullmatch(thing_name) is None:
            raise CertificateError(
                f"{thing_name!r} is not an AWS IoT thing name (1..128 of [a-zA-Z0-9:_-])"
            )
        attributes = [_cn(thing_name)]
        if not attached:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, UNATTACHED_UNIT))
        stem = thing_name if attached else f"{thing_name}.unattached"
        return self._issue(stem, x509.Name(attributes), [], server=False)

    def _issue(
        self, stem: str, subject: x509.Name, names: list[x509.GeneralName], server: bool
    ) -> DeviceCredentials:
        folder = self.directory / "issued"
        folder.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        usage = (
            x509.ExtendedKeyUsageOID.SERVER_AUTH if server else x509.ExtendedKeyUsageOID.CLIENT_AUTH
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        assert isinstance(self._key, ec.EllipticCurvePrivateKey)
        cert = builder.sign(self._key, hashes.SHA256())
        _write_key(key_path, key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return DeviceCredentials(cert_path, key_path, self.ca_path)


def identity_of(peer_subject: tuple[tuple[tuple[str, str], ...], ...]) -> Identity:
    """The identity in a verified peer certificate's subject (``ssl`` ``getpeercert()``)."""
    fields = {key: value for rdn in peer_subject for key, value in rdn}
    common_name = fields.get("commonName", "")
    attached = fields.get("organizationalUnitName") != UNATTACHED_UNIT
    thing = common_name if attached and THING_NAME.fullmatch(common_name) else None
    return Identity(thing_name=thing, common_name=common_name)


def _cn(value: str) -> x509.NameAttribute:
    return x509.NameAttribute(NameOID.COMMON_NAME, value)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
