"""The SMS provider the site talks to during the bench: the test suite's fake Twilio, run in the driver process."""

from __future__ import annotations

import re
import secrets
import threading

from tests.fakes.twilio_server import FakeTwilio

CODE = re.compile(r"\b(\d{6,})\b")


class BenchTwilio(FakeTwilio):
    """A fake Twilio that keeps only the last message per number, so a long run does not hoard every request."""

    def __init__(self) -> None:
        super().__init__(account_sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16))
        self._last_body: dict[str, str] = {}
        self._bodies_lock = threading.Lock()

    def _record_and_pick(self, request):
        with self._bodies_lock:
            self._last_body[request.form.get("To", "")] = request.form.get("Body", "")
        return None

    def code_for(self, phone: str) -> str:
        """Return the code in the last message sent to `phone`."""
        with self._bodies_lock:
            body = self._last_body.get(phone, "")
        match = CODE.search(body)
        if not match:
            raise LookupError(f"no code was sent to {phone}")
        return match.group(1)

    def site_environ(self) -> dict[str, str]:
        """Return the variables that point the site's Twilio backend at this server."""
        return {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_FROM_NUMBER": "+15005550006",
            "TWILIO_API_BASE_URL": self.base_url,
        }
