"""The public verification pages: a printed hash, a pasted hash, an uploaded PDF."""

from __future__ import annotations

import io
import re

import pytest
from cryptography import x509

from elevator_safety.extensions import db
from elevator_safety.reports import signing
from tests.conftest import log_in
from tests.factories import make_record
from tests.verify.conftest import content_line, make_pdf
from tests.verify.test_checks import UNKNOWN, alter, body, three_records
from tests.verify.test_signing import flip_byte_in_content


def page(client, path: str, **kw):  # type: ignore[no-untyped-def]
    response = client.get(path, **kw)
    return response, response.get_data(as_text=True)


def assert_no_inline_script(html: str) -> None:
    """The CSP forbids inline script and style: every script has a src, no style attribute."""
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, tag
    assert "<style" not in html
    assert " style=" not in html
    assert "onclick" not in html


def test_a_good_hash_without_login(client, world):
    _first, second, _third = three_records(world)
    response, html = page(client, f"/verify/{second.content_hash}")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert_no_inline_script(html)
    assert 'data-verdict="ok"' in html
    assert "Daily patrol" in html
    assert world.own.elevators[0].equipment_code in html
    assert second.occurred_on.isoformat() in html
    assert "2 of 3" in html
    assert "its content, signatures and chain verify" in html
    assert 'data-testid="record-link"' not in html  # anonymous: no way in


def test_a_hash_in_capitals_is_the_same_hash(client, world):
    first, _second, _third = three_records(world)
    response, html = page(client, f"/verify/{first.content_hash.upper()}")
    assert response.status_code == 200
    assert 'data-verdict="ok"' in html


def test_an_unknown_hash_is_no_such_record(client, world):
    three_records(world)
    response, html = page(client, f"/verify/{UNKNOWN}")
    assert response.status_code == 404
    assert "No such record." in html
    assert 'data-verdict="not_found"' in html
    assert "Does not verify" in html


@pytest.mark.parametrize("value", ["abc", "g" * 64, "a" * 65, "a" * 63])
def test_a_malformed_hash_is_a_404_that_says_so(client, world, value):
    response, html = page(client, f"/verify/{value}")
    assert response.status_code == 404
    assert "Not a record hash" in html
    assert "64 characters" in html
    assert_no_inline_script(html)


def test_an_altered_record_is_shown_as_not_verifying(client, world):
    _first, second, third = three_records(world)
    alter(second)
    response, html = page(client, f"/verify/{second.content_hash}")
    assert response.status_code == 200
    assert 'data-verdict="altered"' in html
    assert "Does not verify" in html
    assert "altered after it was signed" in html
    _response, later = page(client, f"/verify/{third.content_hash}")
    assert 'data-verdict="earlier_broken"' in later


@pytest.mark.parametrize(
    ("role", "side", "linked"),
    [
        ("officer", "own", True),
        ("regulator", "own", True),
        ("technician", "own", True),
        ("officer", "foreign", False),
        ("regulator", "foreign", False),
    ],
)
def test_users_who_may_see_the_record_get_a_link_to_it(client, world, role, side, linked):
    record = make_record(world.own.elevators[0], world.own.officer, body(1))
    db.session.commit()
    log_in(client, getattr(getattr(world, side), role))
    response, html = page(client, f"/verify/{record.content_hash}")
    assert response.status_code == 200
    assert (f'href="/records/{record.id}"' in html) is linked


def test_the_form_page_offers_a_hash_field_a_pdf_upload_and_the_certificate(client, world):
    response, html = page(client, "/verify")
    assert response.status_code == 200
    assert_no_inline_script(html)
    assert 'name="hash"' in html
    assert 'enctype="multipart/form-data"' in html
    fingerprint = signing.fingerprint(signing.signing_certificate())
    assert fingerprint in html


def test_a_pasted_hash_goes_to_its_page(client, world):
    first, _second, _third = three_records(world)
    spaced = " ".join(re.findall(".{8}", first.content_hash.upper()))
    response = client.get("/verify", query_string={"hash": spaced})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{first.content_hash}")


def test_a_pasted_malformed_hash_stays_on_the_form_with_the_reason(client, world):
    response, html = page(client, "/verify", query_string={"hash": "12345"})
    assert response.status_code == 422
    assert "A record hash has 64 characters" in html
    assert 'value="12345"' in html


def test_the_certificate_is_served_for_pdf_readers(client, world, instance):
    response = client.get("/verify/certificate.pem")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data == (instance / "signing/cert.pem").read_bytes()
    x509.load_pem_x509_certificate(response.data)


def upload(client, data: bytes, name: str = "archive.pdf"):  # type: ignore[no-untyped-def]
    response = client.post(
        "/verify/pdf",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    return response, response.get_data(as_text=True)


def test_an_uploaded_genuine_pdf_verifies(client, world):
    first, second, _third = three_records(world)
    data = signing.sign_pdf(
        make_pdf(content_line(first.content_hash), content_line(second.content_hash))
    )
    response, html = upload(client, data)
    assert response.status_code == 200
    assert_no_inline_script(html)
    assert 'data-testid="overall" data-ok="yes"' in html
    assert 'data-testid="signature" data-ok="yes"' in html
    assert html.count('data-verdict="ok"') == 2
    assert "archive.pdf" in html


def test_an_uploaded_altered_pdf_does_not_verify(client, world):
    first, _second, _third = three_records(world)
    data = signing.sign_pdf(make_pdf(content_line(first.content_hash)))
    response, html = upload(client, flip_byte_in_content(data))
    assert response.status_code == 200
    assert 'data-testid="overall" data-ok="no"' in html
    assert 'data-testid="signature" data-ok="no"' in html


def test_an_uploaded_pdf_of_a_tampered_record_does_not_verify(client, world):
    first, second, _third = three_records(world)
    data = signing.sign_pdf(
        make_pdf(content_line(first.content_hash), content_line(second.content_hash))
    )
    alter(second)
    _response, html = upload(client, data)
    assert 'data-testid="signature" data-ok="yes"' in html
    assert 'data-testid="overall" data-ok="no"' in html
    assert f'data-verdict="altered" data-hash="{second.content_hash}"' in html


def test_a_pdf_without_hashes_is_checked_by_its_signature_only(client, world):
    _response, html = upload(client, signing.sign_pdf(make_pdf("Monthly summary")))
    assert 'data-testid="no-hashes"' in html
    assert 'data-testid="overall" data-ok="yes"' in html


def test_an_upload_without_a_file_is_refused(client, world):
    response = client.post("/verify/pdf", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a PDF file to check." in response.get_data(as_text=True)


def test_the_pdf_address_without_a_form_leads_to_the_form(client, world):
    response = client.get("/verify/pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/verify")


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 2000}], indirect=True)
def test_an_upload_larger_than_the_limit_is_refused(client, world):
    response, html = upload(client, b"%PDF-1.4\n" + b"0" * 5000)
    assert response.status_code == 413
    assert "larger than this site accepts" in html


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_an_upload_needs_the_forms_csrf_token(client, world):
    response, _html = upload(client, signing.sign_pdf(make_pdf("x")))
    assert response.status_code == 400
    form = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    data = {"file": (io.BytesIO(signing.sign_pdf(make_pdf("x"))), "x.pdf"), "csrf_token": token[1]}
    response = client.post("/verify/pdf", data=data, content_type="multipart/form-data")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "app_config",
    [{"VERIFY_LIMIT_PER_IP": "3 per minute", "VERIFY_PDF_LIMIT_PER_IP": "2 per minute"}],
    indirect=True,
)
def test_checks_are_rate_limited_per_client_address(client, world):
    first, _second, _third = three_records(world)
    for _ in range(3):
        assert client.get(f"/verify/{first.content_hash}").status_code == 200
    assert client.get(f"/verify/{first.content_hash}").status_code == 429
    other = {"REMOTE_ADDR": "198.51.100.7"}
    assert client.get(f"/verify/{first.content_hash}", environ_base=other).status_code == 200
    data = signing.sign_pdf(make_pdf("x"))
    assert upload(client, data)[0].status_code == 200
    assert upload(client, data)[0].status_code == 200
    assert upload(client, data)[0].status_code == 429
    assert client.get("/verify").status_code == 200  # the form itself is not limited


def test_every_verification_route_is_declared_public_in_the_grid(app):
    from tests import grid_verify

    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("verify.")}
    assert rules == grid_verify.PUBLIC


BROKEN_IDENTITY = {"REPORT_SIGNING_KEY": "/nonexistent/key.pem", "REPORT_SIGNING_CERT": "/x.pem"}


@pytest.mark.parametrize("app_config", [BROKEN_IDENTITY], indirect=True)
def test_a_broken_signing_setup_does_not_break_the_public_pages(client, world):
    """Printed hashes still check; the PDF check says it cannot judge the signature."""
    first, _second, _third = three_records(world)
    response, html = page(client, "/verify")
    assert response.status_code == 200
    assert 'data-testid="certificate"' not in html
    assert client.get("/verify/certificate.pem").status_code == 404
    assert client.get(f"/verify/{first.content_hash}").status_code == 200
    response, html = upload(client, make_pdf(content_line(first.content_hash)))
    assert response.status_code == 200
    assert "This installation cannot check signatures now." in html
    assert "/nonexistent" not in html  # the operator's paths are not shown to the public
    assert 'data-testid="overall" data-ok="no"' in html
