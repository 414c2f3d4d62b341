from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.helpers import PHONE
from verification import audit
from verification.models import PhoneVerification, VerificationEvent

pytestmark = pytest.mark.django_db

EVENTS = "/admin/verification/verificationevent/"
NUMBERS = "/admin/verification/phoneverification/"
MASKED = "+33 6 •• •• •• 78"


@pytest.fixture
def trail(db):
    now = timezone.now()
    audit.record(audit.Kind.SENT, PHONE, client_ip="198.51.100.1", now=now - timedelta(days=40))
    audit.record(audit.Kind.WRONG_CODE, PHONE, client_ip="198.51.100.1", now=now - timedelta(minutes=2))
    audit.record(audit.Kind.LOCKED, PHONE, client_ip="198.51.100.1", now=now - timedelta(minutes=1))
    audit.record(audit.Kind.SENT, "+14155552671", channel=VerificationEvent.Channel.API, now=now)


def shown(response) -> list[tuple[str, str]]:
    return [(event.kind, event.phone) for event in response.context["cl"].result_list]


def test_event_list_masks_numbers_and_filters_by_kind_and_date(admin_client, trail):
    response = admin_client.get(EVENTS)
    html = response.content.decode()
    assert response.status_code == 200 and MASKED in html and PHONE not in html
    assert shown(admin_client.get(EVENTS, {"kind__exact": "locked"})) == [("locked", PHONE)]
    recent = admin_client.get(EVENTS, {"created_at__gte": str(timezone.now() - timedelta(days=1))})
    assert len(shown(recent)) == 3
    assert len(shown(admin_client.get(EVENTS, {"q": PHONE}))) == 3


def test_event_list_shows_and_filters_the_channel(admin_client, trail):
    html = admin_client.get(EVENTS).content.decode()
    assert "JSON API" in html
    assert shown(admin_client.get(EVENTS, {"channel__exact": "api"})) == [("sent", "+14155552671")]
    record = PhoneVerification.objects.create(phone="+14155552671")
    history = admin_client.get(f"{NUMBERS}{record.pk}/change/").content.decode()
    assert "<td>JSON API</td></tr>" in history


def test_event_list_is_read_only(admin_client, trail):
    event = VerificationEvent.objects.filter(kind="locked").get()
    assert admin_client.get(EVENTS + "add/").status_code == 403
    page = admin_client.get(f"{EVENTS}{event.pk}/change/").content.decode()
    assert 'name="_save"' not in page and PHONE in page
    assert admin_client.post(f"{EVENTS}{event.pk}/delete/").status_code == 403
    admin_client.post(EVENTS, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    assert VerificationEvent.objects.count() == 4


def test_number_page_shows_its_history(admin_client, trail):
    record = PhoneVerification.objects.create(phone=PHONE)
    html = admin_client.get(f"{NUMBERS}{record.pk}/change/").content.decode()
    history = re.search(r"<table><thead>.*?</table>", html, re.S).group(0)
    # This number's three events, newest first, not the other number's.
    kinds = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>198.51.100.1</td>", history)
    assert kinds == ["locked", "wrong code", "code sent"]
    assert f"{EVENTS}?q=%2B33612345678" in html


def test_admin_unlock_is_an_event_naming_the_staff_member(admin_client, admin_user):
    record = PhoneVerification.objects.create(
        phone=PHONE, failed_attempts=3, locked_until=timezone.now() + timedelta(minutes=5)
    )
    admin_client.post(NUMBERS, {"action": "unlock_numbers", "_selected_action": [record.pk]}, REMOTE_ADDR="192.0.2.9")
    event = VerificationEvent.objects.get()
    assert (event.kind, event.phone, event.user, event.client_ip) == ("unlocked", PHONE, admin_user, "192.0.2.9")
    html = admin_client.get(f"{NUMBERS}{record.pk}/change/").content.decode()
    assert "unlocked" in html and admin_user.get_username() in html
