"""Parallel requests to allauth's pages, each thread its own browser and database connection: the app's limits,
race-safe where allauth's own limiter says it is not, decide exactly what is sent."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.helpers import in_parallel
from tests.integrations.helpers import PHONE
from verification.auth import numbers
from verification.models import PhoneVerification, RateEvent

pytestmark = pytest.mark.django_db(transaction=True)

LOGIN = "/accounts/login/"


def test_twenty_parallel_login_codes_to_one_number_send_one(sms_outbox):
    user = get_user_model().objects.create_user("ada")
    numbers.set_sign_in_number(user, PHONE, timezone.now())
    answers = in_parallel(20, lambda i: Client(REMOTE_ADDR=f"192.0.2.{i + 1}").post(LOGIN, {"login": PHONE}))
    # The resend cooldown lets one through; every other browser gets allauth's 429.
    assert Counter(r.status_code for r in answers) == {302: 1, 429: 19}
    assert [sms.to for sms in sms_outbox] == [PHONE]
    assert PhoneVerification.objects.get(phone=PHONE).send_count == 1


def test_twenty_parallel_login_codes_from_one_address_send_what_its_limit_allows(sms_outbox):
    # Twenty numbers from one address: the per-IP limit (OTP_SEND_LIMITS_PER_IP, 10 an hour) lets ten through.
    phones = [f"+336123456{i:02d}" for i in range(20)]
    answers = in_parallel(20, lambda i: Client(REMOTE_ADDR="198.51.100.9").post(LOGIN, {"login": phones[i]}))
    assert Counter(r.status_code for r in answers) == {302: 10, 429: 10}
    assert len(sms_outbox) == 10 and len({sms.to for sms in sms_outbox}) == 10
    assert RateEvent.objects.filter(scope="ip").count() == 10
