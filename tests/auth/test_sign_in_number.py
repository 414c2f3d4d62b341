"""A sign-in number per account: one number per user, one user per number, set by verifying while logged in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError

from tests.helpers import CODE_A, PHONE, T0, at, fixed_codes, post_json
from verification import services
from verification.auth import numbers
from verification.models import SignInNumber
from verification.shortcuts import user_for_phone

pytestmark = pytest.mark.django_db
OTHER = "+33612345699"


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password="correct horse battery")


@pytest.fixture
def bob():
    return get_user_model().objects.create_user("bob", password="correct horse battery")


def test_a_number_signs_in_one_user_and_replaces_the_previous_one(alice, bob):
    assert numbers.set_sign_in_number(alice, PHONE, T0)
    assert numbers.sign_in_number(alice) == PHONE and user_for_phone(PHONE) == alice
    assert not numbers.set_sign_in_number(bob, PHONE, at(1))
    assert numbers.sign_in_number(bob) is None and user_for_phone(PHONE) == alice
    assert numbers.set_sign_in_number(alice, OTHER, at(2))
    assert user_for_phone(PHONE) is None and user_for_phone(OTHER) == alice
    assert SignInNumber.objects.count() == 1
    # Freed, the number can sign someone else in.
    assert numbers.set_sign_in_number(bob, PHONE, at(3))
    assert numbers.remove_sign_in_number(bob) and user_for_phone(PHONE) is None


def test_the_database_refuses_a_second_user_for_a_number(alice, bob):
    SignInNumber.objects.create(user=alice, phone=PHONE, set_at=T0)
    with pytest.raises(IntegrityError):
        SignInNumber.objects.create(user=bob, phone=PHONE, set_at=T0)


def test_an_inactive_account_is_signed_in_by_no_number(alice):
    numbers.set_sign_in_number(alice, PHONE, T0)
    alice.is_active = False
    alice.save()
    assert user_for_phone(PHONE) is None


def test_verifying_while_logged_in_makes_the_number_the_sign_in_number(client, alice, frozen, sms_outbox):
    client.force_login(alice)
    with fixed_codes([CODE_A]):
        client.post("/", {"phone": PHONE})
    response = client.post("/verify/", {"code": CODE_A}, follow=True)
    assert numbers.sign_in_number(alice) == PHONE
    assert "another account" not in response.content.decode()


def test_a_number_of_another_account_is_verified_but_left_with_it(client, alice, bob, frozen, sms_outbox):
    numbers.set_sign_in_number(bob, PHONE, T0)
    client.force_login(alice)
    with fixed_codes([CODE_A]):
        client.post("/", {"phone": PHONE})
    response = client.post("/verify/", {"code": CODE_A}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/verified/"
    assert "signs in to another account" in html and "bob" not in html
    assert numbers.sign_in_number(alice) is None and user_for_phone(PHONE) == bob
    assert client.session["verification_verified_phone"] == PHONE


def test_the_api_says_when_the_number_signs_in_another_account(client, alice, bob, settings, sms_outbox):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.host_auth.BearerAuthenticationMiddleware"]
    numbers.set_sign_in_number(bob, PHONE, T0)
    with fixed_codes([CODE_A]):
        sent = post_json(client, "/api/v1/send", {"phone": PHONE}).json()
    answer = post_json(
        client, "/api/v1/check", {"challenge": sent["challenge"], "code": CODE_A}, HTTP_AUTHORIZATION="Bearer alice"
    ).json()
    assert answer["verified"] is True and answer["sign_in_number"] == "taken"
    assert "another account" in answer["notice"] and "bob" not in str(answer)
    assert user_for_phone(PHONE) == bob


def test_the_api_makes_a_callers_number_their_sign_in_number(client, alice, settings, sms_outbox):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.host_auth.BearerAuthenticationMiddleware"]
    with fixed_codes([CODE_A]):
        sent = post_json(client, "/api/v1/send", {"phone": PHONE}).json()
    answer = post_json(
        client, "/api/v1/check", {"challenge": sent["challenge"], "code": CODE_A}, HTTP_AUTHORIZATION="Bearer alice"
    ).json()
    assert answer["sign_in_number"] == "set" and user_for_phone(PHONE) == alice


def test_a_check_without_a_user_changes_no_sign_in_number(alice, sms_outbox):
    numbers.set_sign_in_number(alice, OTHER, T0)
    with fixed_codes([CODE_A]):
        services.send_code(PHONE, T0)
    assert services.check_code(PHONE, CODE_A, at(1)).outcome is services.CheckOutcome.VERIFIED
    assert numbers.sign_in_number(alice) == OTHER
