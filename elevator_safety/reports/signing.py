"""The installation's signing identity, and the PAdES signature on every PDF it issues.

Every document leaves the installation signed, so that any PDF reader shows
an alteration of the file. The signing identity is a private key and a
certificate in PEM files: the operator's own (config ``REPORT_SIGNING_KEY`` and
``REPORT_SIGNING_CERT``; the certificate file may hold the issuing chain after
the signer's certificate), or else a key and a self-signed certificate created
under ``instance/signing/`` on first use.

Creation is safe when several processes start at once: the key file and then
the certificate file each appear through ``os.link`` of a complete temporary
file, which fails if the name already exists, and the certificate is always
made from the key on disk. Whoever links first wins; the others use the
winner's files. A process stopped between the two steps leaves a key without
a certificate, and the next one completes it.

pyHanko re-parses the private key for every signature (0.2 s for an RSA key),
and sizes the signature with a trial signature. ``sign_pdf`` avoids both: the
loaded signer keeps the parsed key, is cached per process (and reloaded when
the files change), and reserves a size computed from the certificates.

pyHanko also builds the CMS container through asn1crypto objects for every
signature, about 45 ms of the 50 ms a record sheet's signature took. For a
PAdES signature without timestamp, only two parts of that container change
from one PDF to the next: the document's digest in the signed attributes and
the signature value. The loaded signer therefore keeps the container pyHanko
built for its first signature as a template (``_CmsTemplate``) and fills in
those two parts, byte for byte what pyHanko would have built for the same
digest (a test compares them); any other kind of signature goes through
pyHanko.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from asn1crypto import cms as asn1_cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID
from flask import current_app
from flask_babel import gettext as _
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from elevator_safety.errors import DomainError

#: Folder under the instance folder holding the created identity.
SIGNING_FOLDER = "signing"
KEY_FILE = "key.pem"
CERT_FILE = "cert.pem"
#: Certificates of earlier identities (``*.pem``), still trusted when checking old PDFs.
PREVIOUS_FOLDER = "previous"
RSA_BITS = 3072
CERT_VALID_DAYS = 10 * 365
#: Name of the signature field in every signed PDF.
FIELD_NAME = "ElevatorSafetySignature"
#: Bytes reserved in the PDF for the signature container beyond its certificates:
#: the signature value (512 bytes for RSA-4096), signed attributes, algorithm
#: identifiers and DER framing.
CMS_OVERHEAD = 4096
#: Key types that can sign a PDF.
SIGNING_KEY_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)
SIGNATURE_REASON = "电梯安全管理系统签发 Issued by the elevator safety system"


class SigningError(DomainError):
    """The signing identity cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class _FileStamp:
    """What identifies a version of the key and certificate files on disk."""

    key: str
    cert: str
    key_mtime: int
    cert_mtime: int
    key_size: int
    cert_size: int


#: Signed attributes a CMS template may hold: none of them varies between
#: signatures except the message digest.
TEMPLATE_ATTRIBUTES = frozenset(
    {"content_type", "message_digest", "signing_certificate_v2", "cms_algorithm_protection"}
)


@dataclass(frozen=True)
class _CmsTemplate:
    """A CMS container of this signer with a placeholder digest and signature value.

    ``der`` is the container pyHanko built for ``digest``; ``attrs`` the
    signed attributes as they appear in it (implicitly tagged [0]) and
    ``signature`` the signature value, each found exactly once in ``der``.
    """

    digest: bytes
    attrs: bytes
    signature: bytes
    der: bytes

    @classmethod
    def of(cls, container: asn1_cms.ContentInfo, digest: bytes) -> _CmsTemplate | None:
        """Return the template of a container pyHanko built, or None if it cannot be one."""
        der = container.dump()
        infos = container["content"]["signer_infos"]
        if len(infos) != 1:
            return None
        info = infos[0]
        types = {attr["type"].native for attr in info["signed_attrs"]}
        if not types <= TEMPLATE_ATTRIBUTES or info["unsigned_attrs"].native:
            return None
        attrs = info["signed_attrs"].dump()
        signature = info["signature"].native
        parts = (digest, attrs, signature)
        if attrs[:1] != b"\xa0" or any(der.count(part) != 1 for part in parts):
            return None
        if attrs.count(digest) != 1:
            return None
        return cls(digest, attrs, signature, der)

    def fill(self, digest: bytes, sign: Any) -> asn1_cms.ContentInfo | None:
        """Return the container for another digest, signed by ``sign(data)``; None if it differs.

        The signed data is the attributes' DER with their universal SET tag,
        as CMS prescribes (RFC 5652, 5.4). None when the new signature's length
        differs from the template's (then the caller lets pyHanko build it).
        """
        if len(digest) != len(self.digest):
            return None
        attrs = self.attrs.replace(self.digest, digest)
        signature = sign(b"\x31" + attrs[1:])
        if len(signature) != len(self.signature):
            return None
        der = self.der.replace(self.attrs, attrs).replace(self.signature, signature)
        return asn1_cms.ContentInfo.load(der)


class _LoadedSigner(SimpleSigner):
    """A pyHanko SimpleSigner that signs with an already parsed private key."""

    def __init__(
        self,
        private_key: PrivateKeyTypes,
        certificates: list[asn1_x509.Certificate],
        key_info: asn1_keys.PrivateKeyInfo,
    ) -> None:
        super().__init__(
            signing_cert=certificates[0],
            signing_key=key_info,
            cert_registry=SimpleCertificateStore.from_certs(certificates),
        )
        self.private_key = private_key
        #: Room for the signature container in the PDF, counted (as pyHanko does) in
        #: characters of its hexadecimal form: two per byte.
        self.reserved = 2 * (sum(len(cert.dump()) for cert in certificates) + CMS_OVERHEAD)

        self._templates: dict[str, _CmsTemplate | None] = {}
        self._template_lock = threading.Lock()

    async def async_sign(  # type: ignore[override]
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> asn1_cms.ContentInfo:
        """Sign a digest: from the template when the signature is a plain PAdES one.

        The first such signature (per digest algorithm) is pyHanko's own, kept
        as the template; a container that cannot be one disables the template
        and every signature goes through pyHanko.
        """
        arguments: dict[str, Any] = {
            "dry_run": dry_run,
            "use_pades": use_pades,
            "timestamper": timestamper,
            "signed_attr_settings": signed_attr_settings,
            "is_pdf_sig": is_pdf_sig,
            "encap_content_info": encap_content_info,
        }
        plain = (
            use_pades
            and is_pdf_sig
            and not dry_run
            and timestamper is None
            and encap_content_info is None
            and (
                signed_attr_settings is None
                or (
                    signed_attr_settings.adobe_revinfo_attr is None
                    and signed_attr_settings.cades_signed_attrs is None
                )
            )
        )
        if not plain:
            return await super().async_sign(data_digest, digest_algorithm, **arguments)
        # Only plain PAdES signatures get here: the digest algorithm alone tells templates apart.
        with self._template_lock:
            known = digest_algorithm in self._templates
            template = self._templates.get(digest_algorithm)
        if template is not None:
            filled = template.fill(data_digest, lambda data: self.sign_raw(data, digest_algorithm))
            if filled is not None:
                return filled
        container = await super().async_sign(data_digest, digest_algorithm, **arguments)
        if not known:
            with self._template_lock:
                self._templates[digest_algorithm] = _CmsTemplate.of(container, data_digest)
        return container

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        """Sign with the cached key; mechanisms other than the usual ones go the slow way."""
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key = self.private_key
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, PKCS1v15(), digest)
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(digest))
        if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
            return key.sign(data)
        return bytes(super().sign_raw(data, digest_algorithm))


_cache: dict[_FileStamp, tuple[_LoadedSigner, PdfSigner]] = {}
_cache_lock = threading.Lock()


# --- the identity on disk ------------------------------------------------------------------


def signing_folder() -> Path:
    """Return the folder of the created identity (``instance/signing``)."""
    return Path(current_app.instance_path) / SIGNING_FOLDER


def ensure_signing_identity() -> tuple[Path, Path]:
    """Return the paths of the signing key and certificate, creating them on first use."""
    key_setting = current_app.config.get("REPORT_SIGNING_KEY") or ""
    cert_setting = current_app.config.get("REPORT_SIGNING_CERT") or ""
    if key_setting or cert_setting:
        return _configured_identity(key_setting, cert_setting)
    folder = signing_folder()
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if cert_path.exists() and key_path.exists():
        return key_path, cert_path
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not key_path.exists():
        _publish(key_path, _new_key_pem(), mode=0o600)
    if not cert_path.exists():
        _publish(cert_path, _self_signed_pem(_read_key(key_path)), mode=0o644)
    return key_path, cert_path


def _configured_identity(key_setting: str, cert_setting: str) -> tuple[Path, Path]:
    """Return the operator's own key and certificate, or say what is missing."""
    if not key_setting or not cert_setting:
        raise SigningError(
            _(
                "Set both REPORT_SIGNING_KEY and REPORT_SIGNING_CERT (PEM files), or neither "
                "to let the installation create its own under instance/signing/."
            )
        )
    paths = Path(key_setting), Path(cert_setting)
    for path in paths:
        if not path.is_file():
            raise SigningError(_("The signing file %(path)s does not exist.", path=str(path)))
    return paths


def _publish(path: Path, content: bytes, mode: int) -> None:
    """Write a complete file under a temporary name, then link it to ``path`` if still free."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        # A process that published first wins: its file is the one in use.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _new_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _read_key(path: Path) -> PrivateKeyTypes:
    """Load an unencrypted PEM private key, or say why it cannot be used."""
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (TypeError, ValueError) as error:
        raise SigningError(
            _(
                "The signing key %(path)s cannot be read: it must be an unencrypted PEM "
                "private key (%(error)s).",
                path=str(path),
                error=str(error),
            )
        ) from error


def _installation_name() -> str:
    """Return the host name that identifies this installation in its certificate."""
    host = urlparse(current_app.config.get("PUBLIC_BASE_URL") or "").hostname
    return host or socket.gethostname() or "localhost"


def _self_signed_pem(key: PrivateKeyTypes) -> bytes:
    """Return a self-signed document-signing certificate for the key."""
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError(_("The signing key must be an RSA or elliptic-curve key."))
    name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"电梯安全管理系统 Elevator Safety ({_installation_name()})"
            ),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Document signing"),
        ]
    )
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=CERT_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


# --- certificates ----------------------------------------------------------------------------


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Return the certificates of a PEM file (the signer's first), or say why it is unusable."""
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except ValueError as error:
        raise SigningError(
            _("The signing certificate %(path)s is not a PEM certificate.", path=str(path))
        ) from error
    return certificates


def signing_certificate() -> x509.Certificate:
    """Return the installation's current signing certificate."""
    _key_path, cert_path = ensure_signing_identity()
    return read_certificates(cert_path)[0]


def trusted_certificates() -> list[x509.Certificate]:
    """Return the certificates whose signatures this installation accepts as its own.

    These are the current certificate file (with its chain) and the certificates
    of earlier identities kept in ``instance/signing/previous/*.pem``.
    """
    _key_path, cert_path = ensure_signing_identity()
    trusted = read_certificates(cert_path)
    previous = signing_folder() / PREVIOUS_FOLDER
    for path in sorted(previous.glob("*.pem")) if previous.is_dir() else []:
        trusted += read_certificates(path)
    return trusted


def fingerprint(certificate: x509.Certificate) -> str:
    """Return the SHA-256 fingerprint of a certificate as colon-separated hex pairs."""
    raw = certificate.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(raw[i : i + 2] for i in range(0, len(raw), 2))


# --- signing ------------------------------------------------------------------------------------


def _stamp(key_path: Path, cert_path: Path) -> _FileStamp:
    key_stat, cert_stat = key_path.stat(), cert_path.stat()
    return _FileStamp(
        str(key_path.resolve()),
        str(cert_path.resolve()),
        key_stat.st_mtime_ns,
        cert_stat.st_mtime_ns,
        key_stat.st_size,
        cert_stat.st_size,
    )


def _load_signer(key_path: Path, cert_path: Path) -> _LoadedSigner:
    """Load the key and certificates, checking that they belong together."""
    private_key = _read_key(key_path)
    if not isinstance(private_key, SIGNING_KEY_TYPES):
        raise SigningError(
            _("The signing key %(path)s cannot sign (use an RSA or EC key).", path=str(key_path))
        )
    certificates = read_certificates(cert_path)
    if not certificates:
        raise SigningError(
            _("The signing certificate %(path)s holds no certificate.", path=str(cert_path))
        )
    if certificates[0].public_key() != private_key.public_key():
        raise SigningError(
            _(
                "The signing key %(key)s does not belong to the certificate %(cert)s "
                "(the first certificate of the file must be the signer's).",
                key=str(key_path),
                cert=str(cert_path),
            )
        )
    der_key = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain = [
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        for cert in certificates
    ]
    return _LoadedSigner(private_key, chain, asn1_keys.PrivateKeyInfo.load(der_key))


def _signer() -> tuple[_LoadedSigner, PdfSigner]:
    """Return this process's signer for the current identity files (loaded once)."""
    key_path, cert_path = ensure_signing_identity()
    stamp = _stamp(key_path, cert_path)
    with _cache_lock:
        cached = _cache.get(stamp)
        if cached is None:
            signer = _load_signer(key_path, cert_path)
            metadata = PdfSignatureMetadata(
                field_name=FIELD_NAME,
                subfilter=SigSeedSubFilter.PADES,
                md_algorithm="sha256",
                reason=SIGNATURE_REASON,
                certify=True,
                docmdp_permissions=MDPPerm.NO_CHANGES,
            )
            cached = signer, PdfSigner(metadata, signer)
            _cache.clear()
            _cache[stamp] = cached
    return cached


def clear_cache() -> None:
    """Forget the loaded signer (the next signature loads the files again)."""
    with _cache_lock:
        _cache.clear()


T = TypeVar("T")


def outside_event_loop(call: Callable[[], T]) -> T:
    """Run a call of pyHanko's synchronous API, which starts its own asyncio loop.

    ``asyncio.run`` refuses to start inside a thread whose event loop is
    running (an async server, or Playwright's sync API in the tests); there the
    call runs in a short-lived worker thread instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def sign_pdf(data: bytes) -> bytes:
    """Return the PDF with the installation's PAdES signature certifying it unchanged."""
    signer, pdf_signer = _signer()
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    output = outside_event_loop(lambda: pdf_signer.sign_pdf(writer, bytes_reserved=signer.reserved))
    return bytes(output.getvalue())
