"""Base class for SMS backends, shaped like django.core.mail.backends.base."""

from __future__ import annotations

from collections.abc import Sequence

from verification.sms import SmsDeliveryError, SmsMessage


class BaseSmsBackend:
    """Deliver SmsMessage objects; subclasses implement send_messages() or send_one().

    `provider` names who carries the messages (metrics, the message log, the outage breaker); `vias` are the
    ways (SmsMessage.via: sms, call, whatsapp) the backend can deliver: the failover chain skips a backend for a
    way it lacks, and a system check reports an enabled way no backend can deliver.
    """

    provider: str = ""
    vias: frozenset[str] = frozenset({"sms"})

    def __init__(self, fail_silently: bool = False, **kwargs) -> None:
        self.fail_silently = fail_silently

    def open(self) -> bool | None:
        """Open a connection to the provider, if the backend keeps one."""
        return None

    def close(self) -> None:
        """Close the connection opened by open()."""

    def __enter__(self):
        try:
            self.open()
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.close()

    @classmethod
    def delivers(cls, via: str) -> bool:
        """Return whether this backend can deliver a message that travels by `via`."""
        return via in cls.vias

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Send messages and return how many were sent; raise SmsDeliveryError on failure (unless fail_silently).

        This one sends them one by one through send_one(); a backend may override either.
        """
        sent = 0
        for message in messages:
            try:
                self.send_one(message)
            except SmsDeliveryError:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def send_one(self, message: SmsMessage) -> None:
        """Send one message; raise SmsDeliveryError if the provider did not take it."""
        raise NotImplementedError("subclasses of BaseSmsBackend must override send_messages() or send_one()")
