from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from verification.models import PhoneVerification

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/verification/phoneverification/"


@pytest.fixture
def numbers(db):
    now = timezone.now()
    return {
        "locked": PhoneVerification.objects.create(
            phone="+33612345678",
            failed_attempts=3,
            locked_until=now + timedelta(minutes=9),
            code_hash="s$abc123deadbeef",
        ),
        "live": PhoneVerification.objects.create(
            phone="+33612345679", code_hash="s$feedface", code_expires_at=now + timedelta(seconds=90)
        ),
        "verified": PhoneVerification.objects.create(phone="+14155552671", verified_at=now),
        "lock_over": PhoneVerification.objects.create(
            phone="+14155552672", failed_attempts=3, locked_until=now - timedelta(seconds=1)
        ),
    }


def test_changelist_shows_status_column(admin_client, numbers):
    html = admin_client.get(CHANGELIST).content.decode()
    assert "locked until" in html and "code live until" in html and "verified" in html and "idle" in html


def test_currently_locked_filter(admin_client, numbers):
    response = admin_client.get(CHANGELIST, {"locked": "yes"})
    shown = {obj.phone for obj in response.context["cl"].result_list}
    assert shown == {"+33612345678"}
    response = admin_client.get(CHANGELIST, {"locked": "no"})
    assert "+33612345678" not in {obj.phone for obj in response.context["cl"].result_list}


def test_search_by_number(admin_client, numbers):
    response = admin_client.get(CHANGELIST, {"q": "4155552671"})
    assert [obj.phone for obj in response.context["cl"].result_list] == ["+14155552671"]


def test_unlock_action_lifts_lock_and_leaves_a_trace(admin_client, admin_user, numbers):
    locked = numbers["locked"]
    response = admin_client.post(
        CHANGELIST,
        {"action": "unlock_numbers", "_selected_action": [locked.pk, numbers["verified"].pk]},
        follow=True,
    )
    assert "Unlocked 1 number." in response.content.decode()
    locked.refresh_from_db()
    assert locked.locked_until is None and locked.failed_attempts == 0
    entry = LogEntry.objects.get(object_id=str(locked.pk))
    assert entry.user == admin_user and "Unlocked" in entry.get_change_message()


def test_admin_is_read_only_and_never_shows_the_hash(admin_client, numbers):
    assert admin_client.get(CHANGELIST + "add/").status_code == 403
    html = admin_client.get(f"{CHANGELIST}{numbers['locked'].pk}/change/").content.decode()
    assert "abc123deadbeef" not in html and 'name="_save"' not in html
    assert "+33612345678" in html
    response = admin_client.post(f"{CHANGELIST}{numbers['locked'].pk}/change/", {"phone": "+10000000000"})
    assert response.status_code == 403


def test_view_only_staff_cannot_unlock(client, django_user_model, numbers):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("viewer", password="pw-for-tests-only", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_phoneverification"))
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 200
    client.post(CHANGELIST, {"action": "unlock_numbers", "_selected_action": [numbers["locked"].pk]})
    numbers["locked"].refresh_from_db()
    assert numbers["locked"].locked_until is not None
