"""Why a send is refused: the one answer type of the send policy and its parts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError


class Reason(enum.Enum):
    #: The number may not receive codes (country, number type); `error` says why.
    DESTINATION = "destination"
    #: Too many wrong codes: the number is locked until `retry_at`.
    LOCKED = "locked"
    #: A code was sent lately; another may be sent at `retry_at`.
    COOLDOWN = "cooldown"
    #: The pumping brake paused the number's range until `retry_at`.
    PUMPING = "pumping"
    #: A send limit (`limit`: number, ip, session or budget) allows another send at `retry_at`.
    LIMIT = "limit"


@dataclass(frozen=True)
class Refusal:
    """A send the policy refused, why, and when it could pass."""

    reason: Reason
    retry_at: datetime | None = None
    #: For LIMIT: the scope that refused; for PUMPING: "pumping".
    limit: str = ""
    #: For LIMIT and PUMPING: whose sends were refused (the number, the client's network, a hash of the
    #: session, "all" for the budget, the number range for the brake).
    key: str = ""
    #: For DESTINATION: the error to show on the phone field.
    error: ValidationError | None = None
