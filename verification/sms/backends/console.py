"""SMS backend that writes messages to a stream (stdout by default) instead of sending them."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from verification.conf import VIAS
from verification.sms import SmsDeliveryError, SmsMessage
from verification.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    """Write each message to self.stream, one block per message."""

    provider = "console"
    #: Every way: a call or a WhatsApp message is written like a text, with the way it would travel.
    vias = frozenset(VIAS)

    def __init__(self, *args, stream: TextIO | None = None, **kwargs) -> None:
        # Look sys.stdout up now, not at import, so redirected output (capsys) is honoured.
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.RLock()
        super().__init__(*args, **kwargs)

    def format_message(self, message: SmsMessage) -> str:
        """Return the text written for one message."""
        via = "" if message.via == "sms" else f"Via: {message.via}\n"
        return f"To: {message.to}\n{via}\n{message.body}\n"

    def write_message(self, message: SmsMessage) -> None:
        """Write one message followed by a separator line."""
        self.stream.write(self.format_message(message))
        self.stream.write("-" * 79 + "\n")
        self.stream.flush()

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Write all messages in a thread-safe way and return how many were written."""
        sent = 0
        # One lock per backend so concurrent senders do not interleave their blocks.
        with self._lock:
            try:
                for message in messages:
                    self.write_message(message)
                    sent += 1
            except OSError as exc:
                if not self.fail_silently:
                    raise SmsDeliveryError(f"Could not write the message ({exc.strerror or exc})") from exc
        return sent
