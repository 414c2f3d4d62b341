"""The pages: the choice of way, what the code page says of the last code, the other ways, the status route."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import PHONE, assert_in_openapi, post_json
from verification import services
from verification.models import SentMessage
from verification.sms import receipts

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_way(settings):
    settings.OTP_DELIVERY_METHODS = "sms,call,whatsapp"
    return settings


def page(response) -> str:
    return response.content.decode()


def test_one_way_shows_no_choice(client):
    html = page(client.get("/"))
    assert 'name="via"' not in html and "We will text you a one-time code." in html


def test_several_ways_show_a_radio_group_in_a_fieldset(client, every_way):
    html = page(client.get("/"))
    assert html.count('type="radio" name="via"') == 3
    assert "<fieldset" in html and "<legend" in html and "How should we send your code?" in html
    assert 'value="sms" required' not in html  # a choice, not a demand: the first way is the default


def test_choosing_a_call_calls_and_the_code_page_says_so(client, every_way, sms_outbox, frozen):
    response = client.post("/", {"phone": PHONE, "via": "call"})
    assert response["Location"] == "/verify/"
    assert sms_outbox[-1].via == "call"
    html = page(client.get("/verify/"))
    assert 'We called <strong class="phone">+33 6 •• •• •• 78</strong> and read the code out.' in html
    # The same way again, and each other way as its own button, disabled until the cooldown ends.
    assert 'name="via" value="call" id="resend" disabled' in html
    assert 'name="via" value="sms" disabled>Send a text instead' in html
    assert 'name="via" value="whatsapp" disabled>Send by WhatsApp instead' in html
    assert 'data-countdown-enables="resend resend-sms resend-whatsapp"' in html


def test_the_phone_page_sends_by_the_first_way_when_none_is_chosen(client, every_way, sms_outbox):
    client.post("/", {"phone": PHONE})
    assert sms_outbox[-1].via == "sms"


def test_a_call_to_a_refused_country_is_an_error_on_the_choice(client, every_way, sms_outbox):
    every_way.OTP_CALL_ALLOWED_COUNTRIES = "GB"
    response = client.post("/", {"phone": PHONE, "via": "call"})
    assert response.status_code == 200 and sms_outbox == []
    assert "We can&#x27;t call numbers in this country" in page(response)
    assert 'id="id_via_error"' in page(response) or "errorlist" in page(response)


def test_a_way_that_is_not_offered_is_an_error(client, sms_outbox):
    response = client.post("/", {"phone": PHONE, "via": "call"})
    # With one way there is no choice on the page: a posted via is ignored, the code goes by text.
    assert response.status_code == 302 and sms_outbox[-1].via == "sms"


def test_an_undelivered_text_opens_the_other_ways_at_once(client, every_way, sms_outbox, frozen):
    client.post("/", {"phone": PHONE})
    SentMessage.objects.update(sid="SM" + "a" * 32)
    receipts.record_receipt("SM" + "a" * 32, "undelivered", "30003", now=services_now())
    html = page(client.get("/verify/"))
    assert "could not be delivered" in html and "data-undelivered hidden" not in html
    assert 'value="call">Call me instead' in html and 'value="whatsapp">Send by WhatsApp instead' in html
    # The person takes the offer: a call, at once, no cooldown in the way.
    client.post("/verify/resend/", {"via": "call"})
    assert sms_outbox[-1].via == "call"


def services_now():
    from django.utils import timezone

    return timezone.now()


def test_the_status_route_tells_the_script_about_the_receipt(client, every_way, sms_outbox, frozen):
    client.post("/", {"phone": PHONE})
    status = client.get("/verify/status/").json()
    assert status == {"via": "sms", "undelivered": False, "resend_in": 120, "other_vias": ["call", "whatsapp"]}
    SentMessage.objects.update(sid="SM" + "b" * 32)
    receipts.record_receipt("SM" + "b" * 32, "undelivered", "", now=services_now())
    status = client.get("/verify/status/").json()
    assert (status["undelivered"], status["resend_in"]) == (True, 0)


def test_the_status_route_needs_a_number_in_the_session(client):
    assert client.get("/verify/status/")["Location"] == "/"
    assert Client().post("/verify/status/").status_code == 405


def test_resend_by_another_way_counts_like_any_send(client, every_way, sms_outbox, frozen):
    every_way.OTP_RESEND_COOLDOWN_SECONDS = 10
    every_way.OTP_SEND_LIMITS_PER_IP = "2/1h"
    client.post("/", {"phone": PHONE})
    frozen.shift(11)
    client.post("/verify/resend/", {"via": "whatsapp"})
    frozen.shift(11)
    response = client.post("/verify/resend/", {"via": "call"})
    assert [m.via for m in sms_outbox] == ["sms", "whatsapp"]
    assert response.status_code == 429


def test_resend_refuses_a_way_not_offered_with_a_message(client, sms_outbox, frozen):
    client.post("/", {"phone": PHONE})
    response = client.post("/verify/resend/", {"via": "fax"}, follow=True)
    assert "Codes can&#x27;t be sent this way here." in page(response)
    assert len(sms_outbox) == 1


def test_api_send_takes_and_answers_the_way(client, every_way, sms_outbox):
    response = post_json(client, "/api/v1/send", {"phone": PHONE, "via": "whatsapp"})
    assert response.status_code == 201 and response.json()["via"] == "whatsapp"
    assert_in_openapi(response)
    assert sms_outbox[-1].via == "whatsapp"


def test_api_send_defaults_to_the_first_way(client, settings, sms_outbox):
    settings.OTP_DELIVERY_METHODS = "call,sms"
    assert post_json(client, "/api/v1/send", {"phone": PHONE}).json()["via"] == "call"


@pytest.mark.parametrize("via", ["fax", 3, ["sms"], "call"])
def test_api_refuses_a_way_not_offered(client, sms_outbox, via):
    response = post_json(client, "/api/v1/send", {"phone": PHONE, "via": via})
    assert response.status_code == 400
    assert_in_openapi(response)
    body = response.json()
    assert (body["error"], body["rule"], body["vias"]) == ("invalid_via", "via_not_enabled", ["sms"])
    assert sms_outbox == []


def test_api_refuses_a_call_the_number_may_not_get(client, every_way, sms_outbox):
    every_way.OTP_CALL_ALLOWED_COUNTRIES = "GB"
    response = post_json(client, "/api/v1/send", {"phone": PHONE, "via": "call"})
    body = response.json()
    assert response.status_code == 400
    assert_in_openapi(response)
    assert (body["error"], body["rule"], body["vias"]) == (
        "invalid_via",
        "call_country_not_allowed",
        ["sms", "whatsapp"],
    )
    assert sms_outbox == []


def test_the_dashboard_splits_sends_failures_verifications_and_receipts_by_way(admin_client, every_way, sms_outbox):
    from django.utils import timezone

    from verification.admin import figures

    now = timezone.now()
    services.send_code(PHONE, now, via="call")
    services.check_code(PHONE, sms_outbox[-1].code, now)
    services.send_code("+33612345679", now, via="whatsapp")
    SentMessage.objects.filter(via="whatsapp").update(status="undelivered")
    ways = {way.via: way for way in figures.figures(figures.WINDOWS["1h"], now).ways}
    assert list(ways) == ["sms", "call", "whatsapp"]
    assert (ways["call"].sent, ways["call"].verified, ways["call"].conversion) == (1, 1, 1.0)
    assert (ways["whatsapp"].sent, ways["whatsapp"].verified, ways["whatsapp"].undelivered) == (1, 0, 1)
    assert ways["sms"].sent == 0
    html = page(admin_client.get("/admin/verification/dashboard/"))
    assert "By way" in html and '<th scope="row">voice call</th><td>1</td>' in html
