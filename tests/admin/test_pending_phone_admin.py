"""Staff see the numbers users gave to django-allauth without typing their code; nobody adds or edits one there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.helpers import PHONE, T0
from verification.models import PendingPhone

pytestmark = pytest.mark.django_db


def test_staff_find_an_unconfirmed_number_and_may_delete_it(admin_client):
    alice = get_user_model().objects.create_user("alice", password="x")
    row = PendingPhone.objects.create(user=alice, phone=PHONE, given_at=T0)
    listing = admin_client.get("/admin/verification/pendingphone/?q=alice").content.decode()
    assert PHONE in listing and "alice" in listing and "Unconfirmed numbers" in listing
    assert admin_client.get("/admin/verification/pendingphone/add/").status_code == 403
    assert admin_client.post(f"/admin/verification/pendingphone/{row.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not PendingPhone.objects.exists()
