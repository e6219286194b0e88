"""``/.well-known/security.txt`` (RFC 9116) from SECURITY_CONTACT; 404 without one."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.disclosure.security_txt import render
from app.scorecard.https_edge import security_txt_problems
from tests.support import Anonymous


@pytest.mark.checklist("C11", red="security.txt served without a configured contact")
def test_without_a_contact_the_file_is_not_served(anon: Anonymous) -> None:
    response = anon.get("/.well-known/security.txt")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.checklist("C11", red="render drops Contact or Expires, or Expires drifts past a year")
def test_the_rendered_file_is_valid_for_half_a_year() -> None:
    today = dt.date(2026, 12, 7)
    text = render("mailto:security@example.com", "https://api.example.com", today)
    assert "Contact: mailto:security@example.com\n" in text
    assert "Expires: 2027-06-05T00:00:00Z\n" in text
    assert "Canonical: https://api.example.com/.well-known/security.txt\n" in text
    now = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)
    assert security_txt_problems(text, now) == []


@pytest.mark.checklist("C11", red="SECURITY_CONTACT accepts something that is not a URI")
@pytest.mark.parametrize(
    "contact", ["security@example.com", "http://example.com/security", "mailto:", "javascript:x"]
)
def test_a_contact_that_is_not_a_uri_is_refused(contact: str) -> None:
    with pytest.raises(ValidationError):
        Settings(security_contact=contact)


@pytest.mark.parametrize(
    "contact", ["mailto:security@example.com", "https://example.com/security", "tel:+1 555 0100"]
)
def test_contact_forms(contact: str) -> None:
    assert Settings(security_contact=contact).security_contact == contact
