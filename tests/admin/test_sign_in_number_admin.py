"""Staff see each user's sign-in number and can remove it (a lost phone); nobody adds or edits one there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.helpers import PHONE, T0
from verification.auth import numbers
from verification.models import SignInNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    user = get_user_model().objects.create_user("alice", password="x")
    numbers.set_sign_in_number(user, PHONE, T0)
    return user


def test_staff_find_a_users_number_and_remove_it(admin_client, alice):
    listing = admin_client.get("/admin/verification/signinnumber/?q=alice").content.decode()
    assert PHONE in listing and "alice" in listing
    row = SignInNumber.objects.get()
    assert admin_client.get("/admin/verification/signinnumber/add/").status_code == 403
    delete_url = f"/admin/verification/signinnumber/{row.pk}/delete/"
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert numbers.sign_in_number(alice) is None


def test_a_user_without_staff_rights_cannot_see_them(client, alice):
    client.force_login(alice)
    assert client.get("/admin/verification/signinnumber/").status_code == 302
