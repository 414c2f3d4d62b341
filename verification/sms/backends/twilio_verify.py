"""SMS backend that lets Twilio Verify make, send and check the code (`/v2/Services/{sid}/Verifications`).

Twilio Verify spares US senders their registration and picks senders itself. The code is Twilio's: our
own code in the message's body is not sent, and the number's row remembers that Twilio checks it
(PhoneVerification.checked_by); services.check_code then asks Verify's VerificationCheck instead of
comparing hashes. Everything else stays ours: the lock after OTP_MAX_ATTEMPTS wrong codes, the send limits,
the pumping brake, the cooldown, the audit trail. The requests go through the twilio library's client (auth,
its exceptions) on a per-thread connection, to TWILIO_VERIFY_BASE_URL (a regional edge, or a test server).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import requests
from django.utils import translation
from twilio.base.domain import Domain
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.base.version import Version
from twilio.rest import Client

from verification.conf import app_settings
from verification.sms import CheckVerdict, SmsDeliveryError, SmsMessage, SmsProblem
from verification.sms.backends.base import BaseSmsBackend
from verification.sms.backends.twilio import FORM, BaseUrlHttpClient

VERIFY_ORIGIN = "https://verify.twilio.com"
#: Verify's channel for each way of delivery.
CHANNELS = {"sms": "sms", "call": "call", "whatsapp": "whatsapp"}
#: Twilio error codes of a send that say something about the number; the rest are Twilio's problem.
SEND_PROBLEMS = {
    60200: SmsProblem.INVALID_NUMBER,  # invalid parameter: To is not a number Verify accepts
    21211: SmsProblem.INVALID_NUMBER,
    21614: SmsProblem.INVALID_NUMBER,
    60205: SmsProblem.INVALID_NUMBER,  # SMS is not supported by landline phone number
    21408: SmsProblem.COUNTRY_NOT_ALLOWED,
    60220: SmsProblem.COUNTRY_NOT_ALLOWED,  # use case vetting needed for this country (WhatsApp, China)
    60410: SmsProblem.COUNTRY_NOT_ALLOWED,  # Verify Fraud Guard blocked the prefix
    21610: SmsProblem.OPTED_OUT,
}


class _ThreadClients(threading.local):
    key: tuple | None = None
    api: Version | None = None


_thread = _ThreadClients()


def _thread_api(account_sid: str, auth_token: str, timeout: float, base_url: str) -> Version:
    key = (account_sid, auth_token, timeout, base_url)
    if _thread.key != key:
        http_client = BaseUrlHttpClient(timeout=timeout, base_url=base_url)
        _thread.api = Version(Domain(Client(account_sid, auth_token, http_client=http_client), VERIFY_ORIGIN), "v2")
        _thread.key = key
    return _thread.api


class SmsBackend(BaseSmsBackend):
    """Start one Twilio Verify verification per message; Twilio makes the code and checks it."""

    provider = "twilio_verify"
    vias = frozenset(CHANNELS)
    #: The provider, not our hash, checks the code of a message it delivered.
    checks_codes = True

    def __init__(
        self,
        fail_silently: bool = False,
        *,
        service_sid: str | None = None,
        timeout: float | None = None,
        base_url: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.account_sid = app_settings.twilio_account_sid
        self.auth_token = app_settings.twilio_auth_token
        self.service_sid = app_settings.twilio_verify_service_sid if service_sid is None else service_sid
        self.timeout = float(app_settings.twilio_timeout_seconds if timeout is None else timeout)
        self.base_url = app_settings.twilio_verify_base_url if base_url is None else base_url

    def _api(self) -> Version:
        return _thread_api(self.account_sid, self.auth_token, self.timeout, self.base_url)

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Start a verification per message (its sid: VE…); return how many Verify accepted."""
        sent = 0
        for message in messages:
            form = {"To": message.to, "Channel": CHANNELS.get(getattr(message, "via", "sms"), "sms")}
            locale = (getattr(message, "language", "") or translation.get_language() or "").replace("_", "-")
            if locale:
                form["Locale"] = locale.split("-")[0] if locale.lower() != "pt-br" else "pt-BR"
            try:
                created = self._api().create(
                    "POST", f"/Services/{self.service_sid}/Verifications", data=form, headers=dict(FORM)
                )
            except (TwilioException, requests.exceptions.RequestException) as exc:
                if self.fail_silently:
                    continue
                raise _send_error(exc) from exc
            message.sid = created.get("sid") or ""
            message.status = "accepted"
            sent += 1
        return sent

    def check(self, phone: str, code: str) -> CheckVerdict:
        """Ask Verify whether `code` is the live code of `phone`; never raises for Twilio's answers."""
        try:
            answer = self._api().create(
                "POST",
                f"/Services/{self.service_sid}/VerificationCheck",
                data={"To": phone, "Code": code},
                headers=dict(FORM),
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            # 20404: no pending verification (expired or approved); 60202: too many checks; 60203: too many sends.
            if exc.code in (20404, 60202, 60203, 60410) or exc.status == 404:
                return CheckVerdict.GONE
            return CheckVerdict.UNAVAILABLE
        except (TwilioException, requests.exceptions.RequestException):
            return CheckVerdict.UNAVAILABLE
        if answer.get("status") == "approved" and answer.get("valid") is not False:
            return CheckVerdict.APPROVED
        return CheckVerdict.WRONG


def _send_error(exc: Exception) -> SmsDeliveryError:
    """Describe a failed Verifications request without quoting it."""
    if isinstance(exc, (TwilioRestException, TwilioServiceException)):
        code = exc.code if exc.code not in (None, exc.status) else None
        if code is None:
            return SmsDeliveryError(f"Twilio Verify did not accept the verification (HTTP {exc.status})")
        try:
            problem = SEND_PROBLEMS.get(int(code), SmsProblem.UNAVAILABLE)
        except (TypeError, ValueError):
            problem = SmsProblem.UNAVAILABLE
        return SmsDeliveryError(
            f"Twilio Verify refused the verification (error {code}, HTTP {exc.status})",
            provider_code=code,
            problem=problem,
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return SmsDeliveryError("Twilio Verify did not answer in time")
    return SmsDeliveryError("Could not reach Twilio Verify")
