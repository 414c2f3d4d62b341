"""The dashboard's per-provider panel: sent, failed, delivered share, answer times and failovers by provider."""

from __future__ import annotations

import pytest

from tests.helpers import T0, at
from verification import services
from verification.admin import figures
from verification.models import SentMessage
from verification.sms import receipts

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/verification/dashboard/"


@pytest.fixture
def traffic(frozen, fake_twilio, fake_hook, settings):
    """Twilio carries two codes, fails once over to the hook, and the hook carries one code more."""
    settings.SMS_FALLBACK_BACKENDS = "hook"
    services.send_code("+33612345601", at(-60))
    services.send_code("+33612345602", at(-50))
    fake_twilio.server_error()
    services.send_code("+33612345603", at(-40))
    twilio_sids = SentMessage.objects.filter(provider="twilio").values_list("sid", flat=True)
    receipts.record_receipt(twilio_sids[0], "delivered", now=at(-30))
    receipts.record_receipt(twilio_sids[1], "undelivered", "30003", now=at(-30))
    fake_twilio.server_error()
    fake_hook.answer(500, "", times=1)
    services.send_code("+33612345604", at(-20))  # both fail: a failed send, last at the hook


def test_each_provider_has_its_figures(traffic):
    data = figures.figures(figures.WINDOWS["1h"], T0)
    by_name = {p.provider: p for p in data.providers}
    assert set(by_name) == {"twilio", "hook"}
    twilio, hook = by_name["twilio"], by_name["hook"]
    assert (twilio.sent, twilio.failed, twilio.failovers, twilio.delivered_share) == (2, 0, 0, 0.5)
    assert (hook.sent, hook.failed, hook.failovers, hook.delivered_share) == (1, 1, 1, None)
    assert twilio.median is not None and twilio.p95 >= twilio.median


def test_the_panel_is_on_the_page(admin_client, traffic):
    page = admin_client.get(DASHBOARD, {"window": "1h"}).content.decode()
    assert "By provider" in page
    assert '<th scope="row">twilio</th><td>2</td><td>0</td><td>50 %</td>' in page
    assert '<th scope="row">hook</th><td>1</td><td>1</td><td>–</td>' in page
