"""Admin for the abuse limits: pumping pauses with "resume now", and the spent-budget banner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.helpers import T0
from verification import services
from verification.models import PumpingPause

pytestmark = pytest.mark.django_db

PAUSES = "/admin/verification/pumpingpause/"
BANNER = "The SMS budget (OTP_SEND_BUDGET) is spent"


@pytest.fixture
def pauses(db):
    now = timezone.now()
    return {
        "active": PumpingPause.objects.create(
            region="NG",
            calling_code="234",
            prefix="8031",
            paused_at=now,
            paused_until=now + timedelta(minutes=50),
            sent=40,
            verified=1,
        ),
        "over": PumpingPause.objects.create(
            region="GB",
            calling_code="44",
            prefix="7400",
            paused_at=now - timedelta(hours=2),
            paused_until=now - timedelta(hours=1),
            sent=20,
        ),
    }


def test_pauses_are_listed_by_range_with_their_figures(admin_client, pauses):
    html = admin_client.get(PAUSES).content.decode()
    assert "+234 8031" in html and "NG" in html and "paused until" in html and "2.5%" in html
    assert "+44 7400" in html and "sending" in html
    shown = admin_client.get(PAUSES, {"paused": "yes"}).context["cl"].result_list
    assert [str(p) for p in shown] == ["+234 8031"]
    assert admin_client.get(PAUSES + "add/").status_code == 403


def test_no_one_can_delete_a_pause(admin_client, pauses):
    # Deleting would erase the figures; "Resume now" lifts a pause and leaves a trace.
    pause = pauses["active"]
    assert admin_client.get(f"{PAUSES}{pause.pk}/delete/").status_code == 403
    actions = admin_client.get(PAUSES).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _ in actions]
    admin_client.post(PAUSES, {"action": "delete_selected", "_selected_action": [pause.pk], "post": "yes"})
    assert PumpingPause.objects.filter(pk=pause.pk).exists()


def test_resume_now_ends_the_pause_and_leaves_a_trace(admin_client, admin_user, pauses):
    response = admin_client.post(
        PAUSES, {"action": "resume_now", "_selected_action": [p.pk for p in pauses.values()]}, follow=True
    )
    assert "Resumed sends to 1 number range." in response.content.decode()
    pauses["active"].refresh_from_db()
    assert not pauses["active"].is_active(timezone.now())
    entry = LogEntry.objects.get(object_id=str(pauses["active"].pk))
    assert entry.user == admin_user and "Resumed" in entry.get_change_message()


def test_view_only_staff_cannot_resume(client, django_user_model, pauses):
    staff = django_user_model.objects.create_user("viewer", password="pw-for-tests-only", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_pumpingpause"))
    client.force_login(staff)
    assert client.get(PAUSES).status_code == 200
    client.post(PAUSES, {"action": "resume_now", "_selected_action": [pauses["active"].pk]})
    pauses["active"].refresh_from_db()
    assert pauses["active"].is_active(timezone.now())


def test_banner_while_the_budget_is_spent(admin_client, settings, frozen, sms_outbox):
    settings.OTP_SEND_BUDGET = "1/1h"
    assert BANNER not in admin_client.get("/admin/").content.decode()
    services.send_code("+33612345678", T0)
    html = admin_client.get("/admin/").content.decode()
    assert BANNER in html
    assert BANNER in admin_client.get(PAUSES).content.decode()
    frozen.shift(3601)
    assert BANNER not in admin_client.get("/admin/").content.decode()


def test_banner_is_for_staff_only_and_costs_visitors_nothing(
    client, settings, frozen, sms_outbox, django_assert_num_queries
):
    settings.OTP_SEND_BUDGET = "1/1h"
    services.send_code("+33612345678", T0)
    assert BANNER not in client.get("/admin/login/").content.decode()
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200
