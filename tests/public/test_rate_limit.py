"""Rate limits of the public page: per client address and per elevator, POST only."""

from __future__ import annotations

import pytest

from tests.public.conftest import page_url, report_count, submit

LOW = {
    "PUBLIC_REPORT_LIMIT_PER_IP": "3 per hour",
    "PUBLIC_REPORT_LIMIT_PER_ELEVATOR": "100 per hour",
}
LOW_ELEVATOR = {
    "PUBLIC_REPORT_LIMIT_PER_IP": "100 per hour",
    "PUBLIC_REPORT_LIMIT_PER_ELEVATOR": "3 per hour",
}


def test_default_limits_come_from_the_configuration(app):
    assert app.config["PUBLIC_REPORT_LIMIT_PER_IP"] == "5 per hour;20 per day"
    assert app.config["PUBLIC_REPORT_LIMIT_PER_ELEVATOR"] == "30 per hour"


def test_sixth_report_from_one_address_within_an_hour_is_refused(client, world):
    elevator = world.own.elevators[0]
    for _ in range(5):
        assert submit(client, elevator, address="198.51.100.1").status_code == 302
    response = submit(client, elevator, address="198.51.100.1")
    assert response.status_code == 429
    assert report_count() == 5


@pytest.mark.parametrize("app_config", [LOW], indirect=True)
def test_reports_from_one_address_are_limited_across_elevators(client, world):
    first, second = world.own.elevators
    assert submit(client, first, address="198.51.100.1").status_code == 302
    assert submit(client, second, address="198.51.100.1").status_code == 302
    assert submit(client, world.foreign.elevators[0], address="198.51.100.1").status_code == 302
    response = submit(client, first, address="198.51.100.1")
    body = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "<html" in body  # the readable page
    assert "Too many reports" in body
    assert 'href="tel:96333"' in body  # someone may be trapped: the hotline stays on the page
    assert first.rescue_code in body
    assert report_count() == 3
    # Reading the page is not limited; another address may still report.
    assert (
        client.get(page_url(first), environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code == 200
    )
    assert submit(client, first, address="198.51.100.2").status_code == 302
    assert report_count() == 4


@pytest.mark.parametrize("app_config", [LOW], indirect=True)
def test_refused_forms_and_the_honeypot(client, world):
    """Invalid posts store nothing and do not count; the honeypot's fake success does."""
    elevator = world.own.elevators[0]
    for _ in range(4):
        assert submit(client, elevator, address="198.51.100.1", category=None).status_code == 422
    assert submit(client, elevator, address="198.51.100.1", website="spam").status_code == 302
    assert submit(client, elevator, address="198.51.100.1", website="spam").status_code == 302
    assert submit(client, elevator, address="198.51.100.1").status_code == 302
    assert submit(client, elevator, address="198.51.100.1", website="spam").status_code == 429
    assert report_count() == 1


@pytest.mark.parametrize("app_config", [LOW_ELEVATOR], indirect=True)
def test_reports_about_one_elevator_are_limited_across_addresses(client, world):
    first, second = world.own.elevators
    for n in range(3):
        assert submit(client, first, address=f"198.51.100.{n + 1}").status_code == 302
    response = submit(client, first, address="198.51.100.99")
    assert response.status_code == 429
    assert "Too many reports" in response.get_data(as_text=True)
    assert report_count() == 3
    # Another elevator is not affected.
    assert submit(client, second, address="198.51.100.99").status_code == 302
    assert report_count() == 4
