from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from verification.models import PhoneVerification, SentMessage

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


MESSAGES = "/admin/verification/sentmessage/"
SID = "SM" + "5" * 32


@pytest.fixture
def message_log(numbers):
    now = timezone.now()
    return SentMessage.objects.create(
        verification=numbers["live"], sid=SID, status="undelivered", error_code="30003", sent_at=now, status_at=now
    )


def test_message_log_lists_masked_numbers_sids_and_receipts(admin_client, message_log):
    html = admin_client.get(MESSAGES).content.decode()
    assert "+33 6 •• •• •• 79" in html and "+33612345679" not in html
    assert SID in html and "undelivered" in html and "30003" in html


def test_message_log_finds_a_sid_or_a_full_number(admin_client, message_log):
    for query in (SID, "+33612345679"):
        assert list(admin_client.get(MESSAGES, {"q": query}).context["cl"].result_list) == [message_log]
    assert list(admin_client.get(MESSAGES, {"q": "45679"}).context["cl"].result_list) == []


def test_message_log_is_read_only(admin_client, message_log):
    assert admin_client.get(MESSAGES + "add/").status_code == 403
    html = admin_client.get(f"{MESSAGES}{message_log.pk}/change/").content.decode()
    assert SID in html and 'name="_save"' not in html
    response = admin_client.post(f"{MESSAGES}{message_log.pk}/change/", {"status": "delivered"})
    assert response.status_code == 403
    assert admin_client.post(f"{MESSAGES}{message_log.pk}/delete/", {"post": "yes"}).status_code == 403
    message_log.refresh_from_db()
    assert message_log.status == "undelivered"


def test_number_page_lists_its_messages(admin_client, numbers, message_log):
    html = admin_client.get(f"{CHANGELIST}{numbers['live'].pk}/change/").content.decode()
    assert "SMS sent to this number" in html and SID in html and "30003" in html
    other = admin_client.get(f"{CHANGELIST}{numbers['locked'].pk}/change/").content.decode()
    assert SID not in other
