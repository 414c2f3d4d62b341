"""Codes are bound to their purpose: a code works only in the flow that asked for it, and a code typed in the
wrong flow is refused without counting a failure; every flow counts in the same limits and trail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.helpers import CODE_A, PHONE, T0, at, fixed_codes
from verification import services
from verification.auth import numbers
from verification.models import Flow, PhoneVerification, VerificationEvent
from verification.services import CheckOutcome, SendOutcome

pytestmark = pytest.mark.django_db
FLOWS = list(Flow)


@pytest.mark.parametrize("sent_for", FLOWS)
@pytest.mark.parametrize("typed_in", FLOWS)
def test_a_code_works_only_in_its_own_flow(sent_for, typed_in, sms_outbox):
    with fixed_codes([CODE_A]):
        sent = services.send_code(PHONE, T0, flow=sent_for)
    result = services.check_code(PHONE, CODE_A, at(1), challenge=sent.challenge, flow=typed_in)
    record = PhoneVerification.objects.get(phone=PHONE)
    if sent_for == typed_in:
        assert result.outcome is CheckOutcome.VERIFIED
    else:
        assert result.outcome is CheckOutcome.WRONG_SESSION
        # Refused without counting, and the code still works where it belongs.
        assert record.failed_attempts == 0 and record.has_live_code(at(1))
        again = services.check_code(PHONE, CODE_A, at(2), challenge=sent.challenge, flow=sent_for)
        assert again.outcome is CheckOutcome.VERIFIED


def test_a_sign_in_code_typed_on_the_verification_pages_is_refused_uncounted(client, frozen, sms_outbox):
    user = get_user_model().objects.create_user("alice", password="x")
    numbers.set_sign_in_number(user, PHONE, T0)
    with fixed_codes([CODE_A]):
        client.post("/sign-in/", {"phone": PHONE})
    session = client.session
    # The same browser, the same number, the same send: only the flow differs.
    session["verification_phone"] = PHONE
    session["verification_challenge"] = session["verification_sign_in_challenge"]
    session.save()
    response = client.post("/verify/", {"code": CODE_A})
    assert response["Location"] == "/"
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0
    assert client.post("/sign-in/verify/", {"code": CODE_A})["Location"] == "/signed-in/"


def test_every_flow_shares_the_numbers_cooldown_and_limits(sms_outbox, settings):
    settings.OTP_SEND_LIMITS_PER_NUMBER = "2/1h"
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    assert services.send_code(PHONE, T0, flow=Flow.VERIFY).outcome is SendOutcome.SENT
    assert services.send_code(PHONE, at(1), flow=Flow.SIGN_IN, deliver=False).outcome is SendOutcome.SENT
    refused = services.send_code(PHONE, at(2), flow=Flow.SECOND_FACTOR)
    assert refused.outcome is SendOutcome.RATE_LIMITED and refused.limit == "number"
    kinds = list(VerificationEvent.objects.order_by("created_at").values_list("kind", "flow"))
    assert kinds == [("sent", "verify"), ("withheld", "sign_in"), ("rate_limited", "second_factor")]
    assert len(sms_outbox) == 1


def test_a_withheld_code_is_claimed_like_a_sent_one(sms_outbox):
    services.send_code(PHONE, T0, flow=Flow.SIGN_IN, deliver=False)
    again = services.send_code(PHONE, at(1), flow=Flow.SIGN_IN, deliver=False)
    assert again.outcome is SendOutcome.COOLDOWN and sms_outbox == []
    assert PhoneVerification.objects.get(phone=PHONE).send_count == 1
