"""The bot challenge stands before every page that sends a code: passwordless sign-in and the second factor too."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.helpers import PHONE, T0
from tests.web.test_bot_challenge import FIELD, claimed, shows_widget
from verification.auth import numbers

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def always(settings, fake_siteverify):
    settings.OTP_BOT_CHALLENGE_WHEN = "always"
    return fake_siteverify


@pytest.fixture
def alice():
    user = get_user_model().objects.create_user("alice", password=PASSWORD)
    numbers.set_sign_in_number(user, PHONE, T0)
    return user


@pytest.mark.parametrize("phone", [PHONE, "+33612345679"], ids=["account", "no account"])
def test_the_sign_in_page_shows_the_widget_and_sends_nothing_without_it(
    client, frozen, sms_outbox, always, alice, phone
):
    assert shows_widget(client.get("/sign-in/"))
    before = claimed()
    response = client.post("/sign-in/", {"phone": phone})
    assert response.status_code == 200 and shows_widget(response)
    assert "not a robot" in response.content.decode()
    assert sms_outbox == [] and claimed() == before
    # Solved, the sign-in goes on as usual (a code only to the number with an account).
    response = client.post("/sign-in/", {"phone": phone, FIELD: always.solve()})
    assert response.status_code == 302 and response["Location"] == "/sign-in/verify/"
    assert [m.to for m in sms_outbox] == ([PHONE] if phone == PHONE else [])


def test_a_new_second_factor_code_needs_the_widget_too(client, frozen, sms_outbox, always, alice, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 30
    # The password step (the host's login form) sends the first code; asking again is a page of ours.
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert len(sms_outbox) == 1
    frozen.shift(31)
    page = client.get("/login/confirm/")
    assert shows_widget(page)
    response = client.post("/login/confirm/")
    assert response.status_code == 200 and shows_widget(response)
    assert "not a robot" in response.content.decode() and len(sms_outbox) == 1
    response = client.post("/login/confirm/", {FIELD: always.solve()})
    assert response.status_code == 302 and len(sms_outbox) == 2
