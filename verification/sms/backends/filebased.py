"""SMS backend that writes each message to its own file in a directory."""

from __future__ import annotations

import datetime
import os
import secrets

from verification.conf import app_settings
from verification.sms import SmsMessage
from verification.sms.backends.console import SmsBackend as ConsoleSmsBackend


class SmsBackend(ConsoleSmsBackend):
    """Write each message to a new file in SMS_FILE_PATH (or file_path)."""

    provider = "filebased"

    def __init__(self, *args, file_path: str | os.PathLike | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.file_path = os.path.abspath(file_path if file_path is not None else app_settings.sms_file_path)

    def write_message(self, message: SmsMessage) -> None:
        """Write one message to a file of its own."""
        # Created at send time so a missing or unwritable directory surfaces as SmsDeliveryError.
        os.makedirs(self.file_path, exist_ok=True)
        # Mode "x" refuses to reuse a name, so concurrent senders never overwrite each other.
        with open(self._new_file_name(), "x", encoding="utf-8") as stream:
            stream.write(self.format_message(message))

    def _new_file_name(self) -> str:
        """Return a fresh file name that sorts by creation time."""
        timestamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        return os.path.join(self.file_path, f"{timestamp}-{secrets.token_hex(4)}.txt")
