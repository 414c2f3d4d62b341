"""Backend that sends codes through Twilio: text and WhatsApp messages (Messages API), voice calls (Calls API).

A voice call carries its TwiML inline (the `Twiml` parameter, see verification.sms.twiml), so no URL ever serves
a code; a WhatsApp message is an approved template (TWILIO_WHATSAPP_CONTENT_SID) with the code as its variable,
never free text. Every way reports its statuses to TWILIO_STATUS_CALLBACK_URL.

Messages are created through the twilio library's client and its API version object (`Version.create`, what
`client.messages.create` itself calls), not through `client.messages`: that generated resource imports the whole
2010-04-01 API, about 7 MB in every worker, for one POST. The library still does the rest: authentication,
regions and edges, its logging, and the exceptions of an error answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

import requests
from twilio.base.domain import Domain
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.base.version import Version
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from verification.conf import app_settings
from verification.sms import SmsDeliveryError, SmsMessage, SmsProblem, twiml
from verification.sms.backends.base import BaseSmsBackend

#: Twilio error codes the person can do something about; every other failure is UNAVAILABLE.
PROBLEMS = {
    21211: SmsProblem.INVALID_NUMBER,  # invalid 'To' phone number
    21614: SmsProblem.INVALID_NUMBER,  # 'To' number is not a valid mobile number
    21408: SmsProblem.COUNTRY_NOT_ALLOWED,  # region not enabled in the account's Geo Permissions
    21612: SmsProblem.COUNTRY_NOT_ALLOWED,  # no route from this sender to that number
    21610: SmsProblem.OPTED_OUT,  # the recipient replied STOP
    21217: SmsProblem.INVALID_NUMBER,  # calls: the number does not appear to be valid
    21215: SmsProblem.COUNTRY_NOT_ALLOWED,  # calls: the account's Geo Permissions do not cover this number
}


class BaseUrlHttpClient(TwilioHttpClient):
    """Send Twilio API requests to base_url instead of https://api.twilio.com, when set."""

    def __init__(self, *, base_url: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args, **kwargs) -> Response:
        """Make the request, against base_url if one is set."""
        if self.base_url:
            # Replace the whole origin, not just api.twilio.com: TWILIO_REGION or TWILIO_EDGE in
            # the environment would otherwise send test traffic to a real regional host.
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


#: Where the Messages resource lives (BaseUrlHttpClient may send the requests elsewhere).
API_ORIGIN = "https://api.twilio.com"
API_VERSION = "2010-04-01"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


class _ThreadClients(threading.local):
    """Each thread's Twilio API, kept between messages so its HTTPS connection is reused."""

    key: tuple | None = None
    api: Version | None = None
    http_client: BaseUrlHttpClient | None = None


_thread = _ThreadClients()


def _thread_api(account_sid: str, auth_token: str, timeout: float, base_url: str) -> Version:
    """Return this thread's Twilio API for these credentials, making it (and dropping an older one) if needed."""
    key = (account_sid, auth_token, timeout, base_url)
    if _thread.key != key:
        if _thread.http_client is not None and _thread.http_client.session is not None:
            _thread.http_client.session.close()
        # The library's default client has no timeout, so a silent Twilio would hang a worker.
        _thread.http_client = BaseUrlHttpClient(timeout=timeout, base_url=base_url)
        client = Client(account_sid, auth_token, http_client=_thread.http_client)
        _thread.api = Version(Domain(client, API_ORIGIN), API_VERSION)
        _thread.key = key
    return _thread.api


class SmsBackend(BaseSmsBackend):
    """Create one Twilio Message (or Call) per SmsMessage and record its sid.

    The Twilio client, and the pooled HTTPS connection under it, belong to the thread, not to the backend:
    a backend is made per message (`send_sms`), and a new connection per message would cost a TCP and
    TLS handshake with Twilio each time.
    """

    provider = "twilio"
    vias = frozenset({"sms", "call", "whatsapp"})

    def __init__(
        self,
        fail_silently: bool = False,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        timeout: float | None = None,
        base_url: str | None = None,
        status_callback: str | None = None,
        call_from: str | None = None,
        whatsapp_from: str | None = None,
        whatsapp_content_sid: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        conf = app_settings
        self.call_from = conf.twilio_caller if call_from is None else call_from
        self.whatsapp_from = conf.twilio_whatsapp_from if whatsapp_from is None else whatsapp_from
        self.whatsapp_content_sid = (
            conf.twilio_whatsapp_content_sid if whatsapp_content_sid is None else whatsapp_content_sid
        )
        self.account_sid = conf.twilio_account_sid if account_sid is None else account_sid
        self.auth_token = conf.twilio_auth_token if auth_token is None else auth_token
        self.from_number = conf.twilio_from_number if from_number is None else from_number
        self.messaging_service_sid = (
            conf.twilio_messaging_service_sid if messaging_service_sid is None else messaging_service_sid
        )
        self.timeout = float(conf.twilio_timeout_seconds if timeout is None else timeout)
        self.base_url = conf.twilio_api_base_url if base_url is None else base_url
        self.status_callback = conf.twilio_status_callback_url if status_callback is None else status_callback
        self.api: Version | None = None

    def open(self) -> bool:
        """Take this thread's Twilio client; return True if the backend had none."""
        if self.api is not None:
            return False
        self.api = _thread_api(self.account_sid, self.auth_token, self.timeout, self.base_url)
        return True

    def close(self) -> None:
        """Let go of the client; its connection stays pooled for the thread's next message."""
        self.api = None

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Send messages one by one, set their sids and return how many Twilio accepted."""
        if not messages:
            return 0
        new_connection = self.open()
        try:
            return sum(1 for message in messages if self._send(message))
        finally:
            if new_connection:
                self.close()

    def _send(self, message: SmsMessage) -> bool:
        """Create one Twilio Message or Call; return False if it failed silently."""
        form, resource = self._request(message)
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        try:
            created = self._create(form, resource)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            if self.fail_silently:
                return False
            raise _delivery_error(exc) from exc
        message.sid = created.get("sid") or ""
        message.status = created.get("status") or ""
        return True

    def _request(self, message: SmsMessage) -> tuple[dict[str, str], str]:
        """Return the form that sends `message` the way it travels, and the resource it is posted to."""
        if message.via == "call":
            # Only the statuses that end a call: completed, busy, no-answer, failed, canceled.
            script = twiml.twiml(message.code, app_settings.app_name, message.language)
            return {"To": message.to, "From": self.call_from, "Twiml": script}, "Calls"
        if message.via == "whatsapp":
            return {
                "To": f"whatsapp:{message.to}",
                "From": f"whatsapp:{self.whatsapp_from.removeprefix('whatsapp:')}",
                "ContentSid": self.whatsapp_content_sid,
                "ContentVariables": json.dumps({"1": message.code}),
            }, "Messages"
        # A messaging service picks the sender itself, so it wins over a fixed number.
        if self.messaging_service_sid:
            sender = {"MessagingServiceSid": self.messaging_service_sid}
        else:
            sender = {"From": self.from_number}
        return {"To": message.to, "Body": message.body, **sender}, "Messages"

    def _create(self, form: dict[str, str], resource: str = "Messages") -> dict:
        """Create the Message or Call and return Twilio's answer; try twice only if the connection was refused."""
        uri = f"/Accounts/{self.account_sid}/{resource}.json"
        try:
            return self.api.create("POST", uri, data=form, headers=dict(FORM))
        except requests.exceptions.ConnectionError as exc:
            # Any other failure may have reached Twilio, which could then send the SMS twice.
            if not _connection_refused(exc):
                raise
        return self.api.create("POST", uri, data=form, headers=dict(FORM))


def _connection_refused(exc: BaseException) -> bool:
    """Return whether a ConnectionRefusedError lies anywhere beneath `exc` (requests and urllib3 nest it)."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending.extend(e for e in nested if isinstance(e, BaseException))
    return False


def _delivery_error(exc: Exception) -> SmsDeliveryError:
    """Describe a failed create without quoting the request, whose body holds the code."""
    if isinstance(exc, (TwilioRestException, TwilioServiceException)):
        # Without a Twilio code in the body the library reuses the HTTP status as .code.
        code = exc.code if exc.code not in (None, exc.status) else None
        if code is None:
            return SmsDeliveryError(f"Twilio did not accept the message (HTTP {exc.status})")
        return SmsDeliveryError(
            f"Twilio refused the message (error {code}, HTTP {exc.status})",
            provider_code=code,
            problem=_problem(code),
        )
    # ConnectTimeout is both a Timeout and a ConnectionError; either way Twilio was too slow.
    if isinstance(exc, requests.exceptions.Timeout):
        return SmsDeliveryError("Twilio did not answer in time")
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _connection_refused(exc):
            return SmsDeliveryError("Twilio refused the connection (tried twice)")
        return SmsDeliveryError("Could not connect to Twilio")
    if isinstance(exc, requests.exceptions.RequestException):
        return SmsDeliveryError("The request to Twilio failed")
    return SmsDeliveryError("The Twilio client failed")


def _problem(code: int | str) -> SmsProblem:
    """Return what a Twilio error code means for the person."""
    try:
        return PROBLEMS.get(int(code), SmsProblem.UNAVAILABLE)
    except (TypeError, ValueError):
        return SmsProblem.UNAVAILABLE
