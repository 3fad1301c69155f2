"""The signing identity and the PAdES signature: created once, reused, replaceable, checked."""

from __future__ import annotations

import asyncio
import io
import shutil
import stat
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from elevator_safety.reports import signing
from elevator_safety.reports.verifying import check_signature
from tests.verify.conftest import make_pdf

PDF = make_pdf("Content hash: " + "a" * 64)


def test_identity_is_created_once_under_the_instance_folder_and_reused(app, instance):
    key_path, cert_path = signing.ensure_signing_identity()
    assert (key_path, cert_path) == (instance / "signing/key.pem", instance / "signing/cert.pem")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
    key_bytes, cert_bytes = key_path.read_bytes(), cert_path.read_bytes()
    key = serialization.load_pem_private_key(key_bytes, None)
    cert = x509.load_pem_x509_certificate(cert_bytes)
    assert cert.public_key() == key.public_key()
    assert "Elevator Safety" in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value

    signing.clear_cache()
    assert signing.ensure_signing_identity() == (key_path, cert_path)
    signing.sign_pdf(PDF)
    assert key_path.read_bytes() == key_bytes
    assert cert_path.read_bytes() == cert_bytes
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["cert.pem", "key.pem"]


def test_processes_starting_together_end_with_one_identity(app, instance):
    """Each creation step links a complete file only if the name is free: one winner."""
    results: list[tuple[bytes, bytes]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def create() -> None:
        with app.app_context():
            start.wait()
            try:
                key_path, cert_path = signing.ensure_signing_identity()
                results.append((key_path.read_bytes(), cert_path.read_bytes()))
            except BaseException as error:  # collected for the assertion below
                errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    key_bytes, cert_bytes = (
        (instance / "signing/key.pem").read_bytes(),
        (instance / "signing/cert.pem").read_bytes(),
    )
    assert {r[0] for r in results} == {key_bytes}
    key = serialization.load_pem_private_key(key_bytes, None)
    assert x509.load_pem_x509_certificate(cert_bytes).public_key() == key.public_key()
    assert sorted(p.name for p in (instance / "signing").iterdir()) == ["cert.pem", "key.pem"]


def test_a_published_file_is_never_replaced(tmp_path):
    folder = tmp_path / "publish"
    folder.mkdir()
    target = folder / "key.pem"
    signing._publish(target, b"first", mode=0o600)
    signing._publish(target, b"second", mode=0o600)
    assert target.read_bytes() == b"first"
    assert [p.name for p in folder.iterdir()] == ["key.pem"]  # no temporary file left


def test_a_key_left_without_its_certificate_is_completed(app, instance):
    """A process stopped between the two steps: the next one makes the certificate."""
    key_path, cert_path = signing.ensure_signing_identity()
    key_bytes = key_path.read_bytes()
    cert_path.unlink()
    signing.ensure_signing_identity()
    assert key_path.read_bytes() == key_bytes
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert cert.public_key() == serialization.load_pem_private_key(key_bytes, None).public_key()


def test_a_signed_pdf_verifies(app):
    signed = signing.sign_pdf(PDF)
    assert signed.startswith(PDF)  # an incremental update: the original bytes are kept
    check = check_signature(signed)
    assert check.ok, check.detail
    assert "Elevator Safety" in (check.signer or "")
    assert check.signed_at is not None
    assert abs(check.signed_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_an_unsigned_pdf_and_garbage_do_not_verify(app):
    assert check_signature(PDF).detail == "The file carries no digital signature."
    assert not check_signature(PDF).ok
    assert not check_signature(b"%PDF-1.4 not really").ok
    assert not check_signature(b"").ok


def flip_byte_in_content(signed: bytes) -> bytes:
    """Change one byte inside the page's content stream (inside the signed range)."""
    altered = bytearray(signed)
    position = altered.index(b"stream") + 20
    altered[position] ^= 0x01
    return bytes(altered)


def add_text_in_an_update(signed: bytes, text: str) -> bytes:
    """Append an incremental update that draws more text on the page."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    font = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Courier"),
        }
    )
    stream = generic.StreamObject(stream_data=f"BT /FX 7 Tf 40 700 Td ({text}) Tj ET".encode())
    writer.add_stream_to_page(
        0,
        writer.add_object(stream),
        resources=generic.DictionaryObject(
            {
                generic.NameObject("/Font"): generic.DictionaryObject(
                    {generic.NameObject("/FX"): writer.add_object(font)}
                )
            }
        ),
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_altered_copy_does_not_verify(app):
    signed = signing.sign_pdf(PDF)
    flipped = check_signature(flip_byte_in_content(signed))
    assert not flipped.ok
    assert "altered" in flipped.detail
    appended = check_signature(add_text_in_an_update(signed, "Content hash: " + "b" * 64))
    assert not appended.ok
    assert "added to the file" in appended.detail
    assert not check_signature(signed + b"\n% trailing bytes\n").ok


def test_a_pdf_reader_of_its_own_sees_the_signature_and_the_alteration(app, tmp_path):
    """Poppler's pdfsig, another implementation, agrees."""
    signed = signing.sign_pdf(PDF)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(signed)
    bad.write_bytes(flip_byte_in_content(signed))
    report = subprocess.run(  # noqa: S603 - fixed arguments
        [shutil.which("pdfsig") or "pdfsig", str(good)], capture_output=True, text=True, check=True
    ).stdout
    assert "Signature is Valid" in report
    assert "Total document signed" in report
    altered = subprocess.run(  # noqa: S603 - fixed arguments
        [shutil.which("pdfsig") or "pdfsig", str(bad)], capture_output=True, text=True, check=False
    ).stdout
    assert "Signature is Valid" not in altered


def test_a_pdf_signed_by_another_installation_is_not_trusted(app, instance, tmp_path):
    signed = signing.sign_pdf(PDF)
    shutil.rmtree(instance / "signing")
    signing.clear_cache()
    check = check_signature(signed)
    assert not check.ok
    assert "not made by this installation" in check.detail


def test_certificates_of_earlier_identities_are_still_trusted(app, instance):
    signed = signing.sign_pdf(PDF)
    old_cert = (instance / "signing/cert.pem").read_bytes()
    (instance / "signing/key.pem").unlink()
    (instance / "signing/cert.pem").unlink()
    signing.clear_cache()
    signing.ensure_signing_identity()  # a new identity
    assert not check_signature(signed).ok
    previous = instance / "signing/previous"
    previous.mkdir()
    (previous / "2025.pem").write_bytes(old_cert)
    assert check_signature(signed).ok
    assert check_signature(signing.sign_pdf(PDF)).ok


def test_the_loaded_signer_is_cached_and_reloaded_when_the_files_change(app, instance, monkeypatch):
    loads = []
    real = signing._load_signer

    def counting(key_path: Path, cert_path: Path):  # type: ignore[no-untyped-def]
        loads.append(key_path)
        return real(key_path, cert_path)

    monkeypatch.setattr(signing, "_load_signer", counting)
    for _ in range(3):
        signing.sign_pdf(PDF)
    assert len(loads) == 1
    (instance / "signing/key.pem").unlink()
    (instance / "signing/cert.pem").unlink()
    signing.sign_pdf(PDF)  # a new identity is created and loaded
    assert len(loads) == 2


# --- the operator's own key and certificate ----------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


@pytest.fixture
def operator_files(tmp_path: Path) -> dict:
    """An operator's EC key, with a certificate issued by their own CA (chain in the file)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Operator Root CA", ca_key, "Operator Root CA", ca_key, ca=True)
    leaf = _certificate("Lifts of Chengdu Ltd", key, "Operator Root CA", ca_key, ca=False)
    key_path, cert_path = tmp_path / "op-key.pem", tmp_path / "op-cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    )
    return {"REPORT_SIGNING_KEY": str(key_path), "REPORT_SIGNING_CERT": str(cert_path)}


def test_the_operators_own_key_and_certificate_are_used(app: Flask, instance, operator_files):
    app.config.update(operator_files)
    assert signing.ensure_signing_identity() == (
        Path(operator_files["REPORT_SIGNING_KEY"]),
        Path(operator_files["REPORT_SIGNING_CERT"]),
    )
    check = check_signature(signing.sign_pdf(PDF))
    assert check.ok, check.detail
    assert check.signer == "Lifts of Chengdu Ltd"
    assert not (instance / "signing").exists()


def test_the_operators_files_must_be_complete_and_belong_together(
    app: Flask, operator_files, tmp_path
):
    app.config["REPORT_SIGNING_KEY"] = operator_files["REPORT_SIGNING_KEY"]
    with pytest.raises(signing.SigningError, match="Set both REPORT_SIGNING_KEY"):
        signing.ensure_signing_identity()

    app.config["REPORT_SIGNING_CERT"] = str(tmp_path / "missing.pem")
    with pytest.raises(signing.SigningError, match="does not exist"):
        signing.sign_pdf(PDF)

    other = ec.generate_private_key(ec.SECP256R1())
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(
        _certificate("Stranger", other, "Stranger", other, ca=False).public_bytes(
            serialization.Encoding.PEM
        )
    )
    app.config["REPORT_SIGNING_CERT"] = str(stranger)
    with pytest.raises(signing.SigningError, match="does not belong to the certificate"):
        signing.sign_pdf(PDF)

    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello")
    app.config.update(REPORT_SIGNING_KEY=str(not_a_key), **{"REPORT_SIGNING_CERT": str(stranger)})
    with pytest.raises(signing.SigningError, match="unencrypted PEM private key"):
        signing.sign_pdf(PDF)


def test_signs_and_checks_inside_a_running_event_loop(app):
    """pyHanko's sync API starts its own loop: inside a running one it moves to a thread."""

    async def inside() -> tuple[bytes, bool]:
        signed = signing.sign_pdf(make_pdf("inside a loop"))
        return signed, check_signature(signed).ok

    # A thread of its own: the test's thread may hold a running loop already (Playwright's).
    results: list[tuple[bytes, bool]] = []

    def run() -> None:
        with app.app_context():
            results.append(asyncio.run(inside()))

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    assert len(results) == 1
    signed, ok = results[0]
    assert signed.startswith(b"%PDF")
    assert ok


# --- the CMS template --------------------------------------------------------------------------


def _pyhanko_container(signer: signing._LoadedSigner, digest: bytes, **kw):  # type: ignore[no-untyped-def]
    """The container pyHanko itself builds for a digest (the template bypassed)."""
    return _run(lambda: signing.SimpleSigner.async_sign(signer, digest, "sha256", **kw))


def _run(coroutine):  # type: ignore[no-untyped-def]
    """Run a coroutine to its end, also when an earlier test left an event loop running."""
    return signing.outside_event_loop(lambda: asyncio.run(coroutine()))


def test_the_template_gives_byte_for_byte_the_container_pyhanko_builds(app):
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    signing.sign_pdf(PDF)  # the first signature makes the template
    signer, _pdf_signer = signing._signer()
    assert signer._templates["sha256"] is not None
    settings = PdfCMSSignedAttributes(signing_time=datetime.now(UTC))
    for digest in (bytes(range(32)), hashes_of(b"another document")):
        ours = _run(
            lambda digest=digest: signer.async_sign(
                digest, "sha256", use_pades=True, signed_attr_settings=settings
            )
        )
        theirs = _pyhanko_container(signer, digest, use_pades=True, signed_attr_settings=settings)
        assert ours.dump() == theirs.dump()  # RSA PKCS#1 v1.5 signatures are deterministic


def test_pdfs_signed_from_the_template_verify_and_an_altered_one_does_not(app):
    first = signing.sign_pdf(PDF)
    other = make_pdf("Content hash: " + "b" * 64)
    second = signing.sign_pdf(other)
    assert check_signature(first).ok
    assert check_signature(second).ok
    signer, _pdf_signer = signing._signer()
    assert signer._templates["sha256"] is not None  # the second came from it
    assert not check_signature(flip_byte_in_content(second)).ok


def test_a_container_with_other_attributes_makes_no_template(app):
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    signing.sign_pdf(PDF)
    signer, _pdf_signer = signing._signer()
    digest = bytes(range(32))
    # without PAdES pyHanko adds the signing time, which changes from one signature to the next
    settings = PdfCMSSignedAttributes(signing_time=datetime.now(UTC))
    container = _pyhanko_container(signer, digest, use_pades=False, signed_attr_settings=settings)
    types = {a["type"].native for a in container["content"]["signer_infos"][0]["signed_attrs"]}
    assert "signing_time" in types
    assert signing._CmsTemplate.of(container, digest) is None
    # and such a signature is never filled from the PAdES template
    ours = _run(
        lambda: signer.async_sign(digest, "sha256", use_pades=False, signed_attr_settings=settings)
    )
    signed = {a["type"].native for a in ours["content"]["signer_infos"][0]["signed_attrs"]}
    assert "signing_time" in signed


def test_a_signature_of_another_length_is_left_to_pyhanko(app):
    signing.sign_pdf(PDF)
    signer, _pdf_signer = signing._signer()
    template = signer._templates["sha256"]
    assert template is not None
    assert template.fill(bytes(32), lambda data: b"short") is None
    assert template.fill(bytes(20), lambda data: bytes(len(template.signature))) is None


def hashes_of(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()
