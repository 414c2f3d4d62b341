"""Sign-in under parallel requests: one user per number, 3 wrong codes counted, one login per right code."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.helpers import CODE_A, PHONE, T0, fixed_codes, in_parallel, wrong_code
from verification.auth import numbers
from verification.models import PhoneVerification, SignInNumber

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_users_verifying_one_number_at_once_get_it_once(sms_outbox):
    users = [get_user_model().objects.create_user(f"user{i}", password="x") for i in range(2)]
    results = in_parallel(2, lambda i: numbers.set_sign_in_number(users[i], PHONE, T0))
    assert sorted(results) == [False, True]
    assert SignInNumber.objects.filter(phone=PHONE).count() == 1


def test_eight_users_claiming_one_number_at_once_get_it_once(sms_outbox):
    users = [get_user_model().objects.create_user(f"user{i}", password="x") for i in range(8)]
    assert Counter(in_parallel(8, lambda i: numbers.set_sign_in_number(users[i], PHONE, T0))) == {True: 1, False: 7}
    assert SignInNumber.objects.filter(phone=PHONE).count() == 1


def sign_in_tabs(n: int) -> list[Client]:
    """Return n clients sharing one browser session that has asked for a sign-in code to PHONE."""
    first = Client()
    with fixed_codes([CODE_A]):
        assert first.post("/sign-in/", {"phone": PHONE})["Location"] == "/sign-in/verify/"
    clients = [first]
    for _ in range(n - 1):
        client = Client()
        client.cookies.load({name: morsel.value for name, morsel in first.cookies.items()})
        clients.append(client)
    return clients


@pytest.fixture
def alice():
    user = get_user_model().objects.create_user("alice", password="x")
    numbers.set_sign_in_number(user, PHONE, T0)
    return user


def test_30_parallel_wrong_codes_on_the_sign_in_page_count_3(alice, sms_outbox):
    browsers = sign_in_tabs(30)
    bad = wrong_code(CODE_A)
    responses = in_parallel(30, lambda i: browsers[i].post("/sign-in/verify/", {"code": bad}))
    assert sum(r.status_code == 200 for r in responses) == 2
    assert {r["Location"] for r in responses if r.status_code == 302} == {"/sign-in/locked/"}
    record = PhoneVerification.objects.get(phone=PHONE)
    assert record.failed_attempts == 3 and record.locked_until is not None


def test_10_parallel_right_codes_log_in_once(alice, sms_outbox):
    from django.contrib.auth.signals import user_logged_in

    logins = []
    user_logged_in.connect(lambda **kw: logins.append(kw["user"].pk), weak=False, dispatch_uid="race")
    try:
        browsers = sign_in_tabs(10)
        responses = in_parallel(10, lambda i: browsers[i].post("/sign-in/verify/", {"code": CODE_A}))
    finally:
        user_logged_in.disconnect(dispatch_uid="race")
    locations = Counter(r.get("Location", r.status_code) for r in responses)
    assert locations["/signed-in/"] == 1 and logins == [alice.pk]
    # The rest saw the code used up, or (after the login cycled the session) start again.
    assert set(locations) <= {"/signed-in/", 200, "/sign-in/"}
