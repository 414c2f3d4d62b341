"""The challenge an API client gets with each code: what a browser's session is to the pages.

It names the send (only a check that carries it can use that send's code) and, carried from one send to
the next, stands for the client in the per-session send limit. Signed, so a client can neither make one
up nor change the number it names.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core import signing

SALT = "verification.api.challenge"
#: A signed challenge is about 170 characters; anything much longer is not one.
MAX_LENGTH = 512


@dataclass(frozen=True)
class Challenge:
    phone: str
    #: The id of the send (PhoneVerification.challenge) whose code this challenge may use.
    send: str
    #: The client, for the per-session send limit: kept from the challenge a client brings to its next send.
    session: str

    def signed(self) -> str:
        """Return the challenge as the opaque string a client carries."""
        return signing.Signer(salt=SALT).sign_object({"phone": self.phone, "send": self.send, "session": self.session})

    @classmethod
    def read(cls, value: object) -> Challenge | None:
        """Return the challenge `value` is, or None when this site did not sign it (or it was altered)."""
        if not isinstance(value, str) or not value.isascii() or len(value) > MAX_LENGTH:
            return None
        try:
            data = signing.Signer(salt=SALT).unsign_object(value)
        except (signing.BadSignature, ValueError):
            return None
        return cls(data["phone"], data["send"], data["session"])


def new_session() -> str:
    """Return a new client id for a client that brings no challenge, as a browser without cookies gets a session."""
    return secrets.token_hex(16)
