"""What a send, a check and a bot challenge can end in: below `services` and `bot_challenge` (which decide them)
and `metrics` (which counts them).

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
    #: The code was asked for by another browser, or for another flow (a sign-in code typed on the
    #: verification pages, say): start again, no failure counted.
    WRONG_SESSION = "wrong_session"


class BotChallengeOutcome(enum.Enum):
    """What became of one send's bot challenge: the label of otp_bot_challenges_total."""

    NOT_NEEDED = "not_needed"
    PASSED = "passed"
    #: No token, a malformed one, or one the provider rejected (or solved on another site).
    FAILED = "failed"
    #: The provider could not be reached or gave no answer we could read: nothing is sent.
    UNREACHABLE = "unreachable"
