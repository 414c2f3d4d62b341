"""Make one-time codes and the keyed hashes that are stored in their place."""

from __future__ import annotations

import secrets

from django.utils.crypto import constant_time_compare, get_random_string, salted_hmac

from verification.conf import app_settings


class CodeGenerator:
    """Generate numeric codes and hash them with an HMAC keyed by SECRET_KEY."""

    key_salt = "verification.tokens.CodeGenerator"
    algorithm = "sha256"
    separator = "$"

    def make_code(self) -> str:
        """Return a fresh code of OTP_LENGTH digits from a CSPRNG."""
        length = app_settings.length
        return str(secrets.randbelow(10**length)).zfill(length)

    def make_hash(self, phone: str, code: str) -> str:
        """Return "salt$digest" for the code, bound to the phone number."""
        salt = get_random_string(16)
        return f"{salt}{self.separator}{self._digest(phone, salt, code)}"

    def check_code(self, phone: str, code: str, encoded: str) -> bool:
        """Return whether the code matches the stored hash, in constant time."""
        salt, sep, digest = encoded.partition(self.separator)
        if not (sep and salt and digest):
            return False
        return constant_time_compare(self._digest(phone, salt, code), digest)

    def _digest(self, phone: str, salt: str, code: str) -> str:
        value = f"{phone}{self.separator}{salt}{self.separator}{code}"
        return salted_hmac(self.key_salt, value, algorithm=self.algorithm).hexdigest()


default_code_generator = CodeGenerator()
