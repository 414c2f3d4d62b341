"""`phone_verified`: sent once per success, after the commit, with what a host needs; a failing receiver is logged."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from tests.helpers import CODE_A, CODE_B, PHONE, T0, at, fixed_codes, wrong_code
from verification.models import PhoneVerification, VerifiedPhone
from verification.signals import phone_verified


@pytest.fixture
def received():
    """Connect a receiver for the test; return the keyword arguments of every call it got."""
    calls = []

    def receiver(sender, **kwargs):
        kwargs["in_transaction"] = connection.in_atomic_block
        kwargs["stored"] = PhoneVerification.objects.get(phone=kwargs["phone"]).verified_at
        calls.append(kwargs)

    phone_verified.connect(receiver)
    yield calls
    phone_verified.disconnect(receiver)


def start(client, code: str = CODE_A) -> None:
    with fixed_codes([code]):
        assert client.post("/", {"phone": "+33 6 12 34 56 78"})["Location"] == "/verify/"


@pytest.mark.django_db(transaction=True)
def test_sent_once_after_the_commit_with_phone_request_user_and_time(client, frozen, received):
    alice = get_user_model().objects.create_user("alice", password="a long password")
    client.force_login(alice)
    start(client)
    assert client.post("/verify/", {"code": wrong_code(CODE_A)}).status_code == 200
    assert received == []
    response = client.post("/verify/", {"code": CODE_A})
    assert response["Location"] == "/verified/"
    # The code is used up: typing it again verifies nothing and announces nothing.
    client.post("/verify/", {"code": CODE_A})
    [call] = received
    assert call["phone"] == PHONE and call["user"] == alice and call["verified_at"] == T0 and call["channel"] == "web"
    assert call["request"].path == "/verify/" and call["request"].user == alice
    # Receivers see the committed state, and may write in their own transaction.
    assert call["in_transaction"] is False and call["stored"] == T0


@pytest.mark.django_db(transaction=True)
def test_sent_after_the_requests_own_transaction_commits(client, frozen, received, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    start(client)
    client.post("/verify/", {"code": CODE_A})
    [call] = received
    assert call["user"] is None and call["in_transaction"] is False


@pytest.mark.django_db
def test_a_failing_receiver_is_logged_and_the_person_is_verified(
    client, frozen, caplog, django_capture_on_commit_callbacks
):
    def broken(sender, **kwargs):
        raise RuntimeError("the host's receiver is broken")

    phone_verified.connect(broken)
    try:
        start(client)
        with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post("/verify/", {"code": CODE_A})
    finally:
        phone_verified.disconnect(broken)
    # Sent when the transaction commits (beside the metrics' counts), not inside it.
    assert len([c for c in callbacks if "announce_verified" in getattr(c, "__qualname__", "")]) == 1
    assert response.status_code == 302 and response["Location"] == "/verified/"
    [record] = [r for r in caplog.records if r.name == "verification.signals"]
    assert "phone_verified receiver" in record.getMessage() and "broken" in record.getMessage()
    assert PHONE not in record.getMessage()
    assert record.exc_info[1].args == ("the host's receiver is broken",)
    assert client.get("/verified/").status_code == 200


@pytest.mark.django_db
def test_verifying_again_moves_the_users_row(client, frozen, django_capture_on_commit_callbacks):
    alice = get_user_model().objects.create_user("alice", password="a long password")
    client.force_login(alice)
    start(client, CODE_A)
    client.post("/verify/", {"code": CODE_A})
    frozen.shift(600)
    start(client, CODE_B)
    client.post("/verify/", {"code": CODE_B})
    [row] = VerifiedPhone.objects.all()
    assert (row.user, row.phone, row.verified_at) == (alice, PHONE, at(minutes=10))
