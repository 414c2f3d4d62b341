"""SMS backend for tests: keeps messages in the module-level `outbox` list."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from verification.conf import VIAS
from verification.sms import SmsMessage
from verification.sms.backends.base import BaseSmsBackend

# Cleared in place by tests (outbox.clear()), never rebound, so imported references stay valid.
outbox: list[SmsMessage] = []


class SmsBackend(BaseSmsBackend):
    """Append copies of sent messages to `outbox` instead of sending them."""

    provider = "locmem"
    vias = frozenset(VIAS)

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Store copies of messages in the outbox and return how many there were."""
        # Copies, so later changes by the caller do not rewrite what was "sent".
        outbox.extend(copy.copy(message) for message in messages)
        return len(messages)
