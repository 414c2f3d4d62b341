from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.helpers import PHONE, at
from verification.models import VerifiedPhone

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/verification/verifiedphone/"


@pytest.fixture
def rows(db):
    users = get_user_model().objects
    alice, bob = users.create_user("alice"), users.create_user("bob")
    return [
        VerifiedPhone.objects.record(alice, PHONE, at(0)),
        VerifiedPhone.objects.record(bob, "+14155552671", at(minutes=1)),
    ]


def test_list_shows_number_user_and_time_and_finds_by_either(admin_client, rows):
    html = admin_client.get(CHANGELIST).content.decode()
    assert PHONE in html and "alice" in html and "+14155552671" in html and "bob" in html
    found = admin_client.get(CHANGELIST, {"q": "bob"}).content.decode()
    assert "+14155552671" in found and PHONE not in found
    found = admin_client.get(CHANGELIST, {"q": PHONE}).content.decode()
    assert PHONE in found and "+14155552671" not in found


def test_rows_are_read_only(admin_client, rows):
    row = rows[0]
    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    page = admin_client.get(f"{CHANGELIST}{row.pk}/change/")
    assert page.status_code == 200 and 'name="phone"' not in page.content.decode()
    admin_client.post(f"{CHANGELIST}{row.pk}/change/", {"phone": "+14155552672", "user": row.user_id})
    assert admin_client.post(f"{CHANGELIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.phone == PHONE
