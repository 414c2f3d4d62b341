"""What a send and a check can end in: below both `services` (which decides them) and `metrics` (which counts them).

`from verification.services import CheckOutcome, SendOutcome` keeps working: services re-exports them.
"""

from __future__ import annotations

import enum


class SendOutcome(enum.Enum):
    SENT = "sent"
    COOLDOWN = "cooldown"
    LOCKED = "locked"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    #: The number may not receive codes (country or number type); `error` says why.
    REFUSED = "refused"


class CheckOutcome(enum.Enum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    EXPIRED = "expired"
    LOCKED = "locked"
    #: The code was asked for by another browser: start again, no failure counted.
    WRONG_SESSION = "wrong_session"
