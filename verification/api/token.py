"""The token the API's check returns: a signed, timestamped assertion that a number was verified.

A host's backend reads it with verification.shortcuts.phone_from_token; the pages never need it.
"""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

#: Its own salt: neither a challenge nor anything else this site signs can pass for a token.
SALT = "verification.api.token"


def make_token(phone: str) -> str:
    """Return a token asserting that `phone` was verified now (the signature's timestamp is that moment)."""
    return signing.dumps({"phone": phone}, salt=SALT)


def read_token(token: str, max_age: float | timedelta) -> str:
    """Return the number `token` asserts; raise signing.BadSignature (SignatureExpired when older than max_age)."""
    if not isinstance(token, str):
        raise signing.BadSignature("A token is a string.")
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except UnicodeError as exc:
        raise signing.BadSignature("Not a token.") from exc
    return payload["phone"]
