from __future__ import annotations

import pytest

from tests.helpers import CODE_A, CODE_B, LOCMEM_SMS, PHONE, T0, at, code_in, fixed_codes, wrong_code
from verification import services
from verification.models import PhoneVerification
from verification.services import CheckOutcome, SendOutcome

pytestmark = pytest.mark.django_db


def send(now=T0):
    return services.send_code(PHONE, now=now)


def test_send_stores_only_a_hash_and_sets_expiry(sms_outbox):
    result = send()
    assert result.outcome is SendOutcome.SENT
    assert len(sms_outbox) == 1 and sms_outbox[0].to == PHONE
    code = code_in(sms_outbox[0])
    record = PhoneVerification.objects.get(phone=PHONE)
    assert code not in record.code_hash
    assert record.code_expires_at == at(120)
    assert record.last_sent_at == T0 and record.send_count == 1
    assert result.retry_at == at(120)


def test_sms_body_names_app_code_and_lifetime(sms_outbox):
    send()
    code = code_in(sms_outbox[0])
    assert sms_outbox[0].body == f"Phone verification: your code is {code}. It expires in 2 minutes. Do not share it."


def test_sms_body_follows_the_configured_template(settings):
    settings.OTP_SMS_TEMPLATE = "{code} is your {app} code ({minutes} min). {{not a field}}"
    settings.OTP_APP_NAME = "Acme"
    settings.OTP_TTL_SECONDS = 300
    assert services.sms_body("493817") == "493817 is your Acme code (5 min). {not a field}"


@pytest.mark.parametrize("ttl,minutes", [(60, "1 minute."), (90, "1 minute."), (30, "1 minute."), (600, "10 minutes.")])
def test_sms_body_never_promises_more_whole_minutes_than_the_code_lives(settings, ttl, minutes):
    settings.OTP_TTL_SECONDS = ttl
    assert f"It expires in {minutes}" in services.sms_body("493817")


def test_webotp_line_ends_the_message(settings):
    settings.OTP_WEBOTP_DOMAIN = "verify.example.com"
    body = services.sms_body("493817")
    assert body.endswith("Do not share it.\n\n@verify.example.com #493817")


def test_codes_have_the_configured_length(settings, sms_outbox):
    settings.OTP_LENGTH = 8
    send()
    assert len(code_in(sms_outbox[0])) == 8


def test_no_second_sms_during_cooldown(sms_outbox):
    send()
    result = send(at(119))
    assert result.outcome is SendOutcome.COOLDOWN and result.retry_at == at(120)
    assert len(sms_outbox) == 1
    assert send(at(120)).outcome is SendOutcome.SENT
    assert len(sms_outbox) == 2


def test_resend_replaces_the_old_code(sms_outbox):
    with fixed_codes([CODE_A, CODE_B]):
        send()
        send(at(120))
    assert [code_in(message) for message in sms_outbox] == [CODE_A, CODE_B]
    assert services.check_code(PHONE, CODE_A, now=at(121)).outcome is CheckOutcome.MISMATCH
    assert services.check_code(PHONE, CODE_B, now=at(122)).outcome is CheckOutcome.VERIFIED


def test_correct_code_verifies_once(sms_outbox):
    send()
    code = code_in(sms_outbox[0])
    assert services.check_code(PHONE, code, now=at(30)).outcome is CheckOutcome.VERIFIED
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.verified_at == at(30) and record.failed_attempts == 0 and record.code_hash == ""
    assert services.check_code(PHONE, code, now=at(31)).outcome is CheckOutcome.EXPIRED


def test_success_resets_failures_and_allows_a_new_send(sms_outbox):
    send()
    code = code_in(sms_outbox[0])
    services.check_code(PHONE, wrong_code(code), now=at(1))
    services.check_code(PHONE, code, now=at(2))
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0
    assert send(at(3)).outcome is SendOutcome.SENT


def test_expired_code_is_refused_without_counting(sms_outbox):
    send()
    code = code_in(sms_outbox[0])
    assert services.check_code(PHONE, code, now=at(120)).outcome is CheckOutcome.EXPIRED
    assert services.check_code(PHONE, wrong_code(code), now=at(121)).outcome is CheckOutcome.EXPIRED
    assert PhoneVerification.objects.get(phone=PHONE).failed_attempts == 0


def test_code_for_unknown_number_is_expired():
    assert services.check_code(PHONE, "123456", now=T0).outcome is CheckOutcome.EXPIRED
    assert not PhoneVerification.objects.exists()


def test_code_is_bound_to_its_number(sms_outbox):
    other = "+33612345679"
    with fixed_codes([CODE_A, CODE_B]):
        send()
        services.send_code(other, now=T0)
    assert services.check_code(other, CODE_A, now=at(1)).outcome is CheckOutcome.MISMATCH
    # The stored hash covers the number: moved to another number's row, it accepts nothing.
    stolen = PhoneVerification.objects.get(phone=PHONE).code_hash
    PhoneVerification.objects.filter(phone=other).update(code_hash=stolen)
    assert services.check_code(other, CODE_A, now=at(2)).outcome is CheckOutcome.MISMATCH
    assert services.check_code(PHONE, CODE_A, now=at(3)).outcome is CheckOutcome.VERIFIED


def test_third_wrong_code_locks_for_ten_minutes(sms_outbox):
    send()
    bad = wrong_code(code_in(sms_outbox[0]))
    first = services.check_code(PHONE, bad, now=at(1))
    second = services.check_code(PHONE, bad, now=at(2))
    third = services.check_code(PHONE, bad, now=at(3))
    assert (first.outcome, first.attempts_left) == (CheckOutcome.MISMATCH, 2)
    assert (second.outcome, second.attempts_left) == (CheckOutcome.MISMATCH, 1)
    assert third.outcome is CheckOutcome.LOCKED and third.locked_until == at(603)
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.is_locked(at(602)) and not record.is_locked(at(603))
    assert record.code_hash == "" and record.failed_attempts == 3


def test_lock_kills_the_live_code_and_blocks_sends(sms_outbox):
    send()
    code = code_in(sms_outbox[0])
    for i in range(3):
        services.check_code(PHONE, wrong_code(code), now=at(i))
    assert services.check_code(PHONE, code, now=at(10)).outcome is CheckOutcome.LOCKED
    result = send(at(10))
    assert result.outcome is SendOutcome.LOCKED and result.retry_at == at(602)
    assert len(sms_outbox) == 1


def test_lock_ends_on_time_and_resets_failures(sms_outbox):
    send()
    code = code_in(sms_outbox[0])
    for i in range(3):
        services.check_code(PHONE, wrong_code(code), now=at(i))
    assert send(at(601)).outcome is SendOutcome.LOCKED
    assert send(at(602)).outcome is SendOutcome.SENT
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.locked_until is None and record.failed_attempts == 0
    new = code_in(sms_outbox[1])
    assert services.check_code(PHONE, wrong_code(new), now=at(603)).attempts_left == 2


def test_resend_does_not_reset_failures(sms_outbox):
    send()
    services.check_code(PHONE, wrong_code(code_in(sms_outbox[0])), now=at(1))
    services.check_code(PHONE, wrong_code(code_in(sms_outbox[0])), now=at(2))
    send(at(120))
    result = services.check_code(PHONE, wrong_code(code_in(sms_outbox[1])), now=at(121))
    assert result.outcome is CheckOutcome.LOCKED


def test_failed_send_keeps_old_code_and_cooldown(settings, sms_outbox, sms_down):
    send()
    old = code_in(sms_outbox[0])
    sms_down()
    before = PhoneVerification.objects.get(phone=PHONE)

    assert send(at(120)).outcome is SendOutcome.FAILED
    after = PhoneVerification.objects.get(phone=PHONE)
    assert (after.code_hash, after.code_expires_at, after.send_count, after.failed_attempts) == (
        before.code_hash,
        before.code_expires_at,
        1,
        0,
    )
    assert not after.in_cooldown(at(120))
    settings.SMS_BACKEND = LOCMEM_SMS
    assert services.check_code(PHONE, old, now=at(100)).outcome is CheckOutcome.VERIFIED


def test_failed_first_send_consumes_no_cooldown(settings, sms_outbox, sms_down):
    sms_down()
    assert send().outcome is SendOutcome.FAILED
    settings.SMS_BACKEND = LOCMEM_SMS
    assert send(at(1)).outcome is SendOutcome.SENT


def test_unlock_lifts_only_current_locks(sms_outbox):
    send()
    for i in range(3):
        services.check_code(PHONE, wrong_code(code_in(sms_outbox[0])), now=at(i))
    services.send_code("+33612345679", now=T0)
    unlocked = services.unlock(PhoneVerification.objects.all(), now=at(10))
    assert [r.phone for r in unlocked] == [PHONE]
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.locked_until is None and record.failed_attempts == 0
    assert send(at(11)).outcome is SendOutcome.SENT
