"""SMS backend that sends messages through Vonage's SMS API with the official `vonage` SDK.

The SDK is imported when the backend is first used, so a site that never names it pays nothing for it.
Its HTTP client always speaks to https://<rest host>; VONAGE_API_BASE_URL (a test server, or another
origin) replaces that origin on the SDK's own session, as the Twilio backend does with Twilio's.
"""

from __future__ import annotations

import math
import re
import threading
from urllib.parse import urlsplit

import requests

from verification.conf import app_settings
from verification.sms import SmsDeliveryError, SmsMessage, SmsProblem
from verification.sms.backends.base import BaseSmsBackend

#: Vonage SMS API status codes the person can do something about; every other one is UNAVAILABLE.
PROBLEMS = {
    "6": SmsProblem.INVALID_NUMBER,  # invalid message: unroutable number prefix
    "15": SmsProblem.INVALID_NUMBER,  # illegal number
    "7": SmsProblem.OPTED_OUT,  # number barred (replied STOP)
    "29": SmsProblem.COUNTRY_NOT_ALLOWED,  # non-whitelisted destination
}
ERROR_CODE = re.compile(r"error code (\d+)")


class _BaseUrlSession(requests.Session):
    """A session that sends the SDK's https://<host> requests to `base_url` instead, when set."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


_thread = threading.local()


def _client(key: tuple):
    """Return this thread's Vonage SMS client for these settings (kept: its connection is reused)."""
    if getattr(_thread, "key", None) != key:
        from vonage import Auth, HttpClientOptions, Vonage

        api_key, api_secret, signature_secret, signature_method, timeout, base_url = key
        auth = Auth(
            api_key=api_key,
            api_secret=api_secret,
            signature_secret=signature_secret or None,
            signature_method=signature_method,
        )
        client = Vonage(auth, HttpClientOptions(timeout=timeout, max_retries=0))
        session = _BaseUrlSession(base_url)
        # The SDK keeps its session and adapter private; only the origin of its requests changes here.
        session.mount("https://", client.http_client._adapter)
        client.http_client._session = session
        _thread.client, _thread.key = client, key
    return _thread.client


class SmsBackend(BaseSmsBackend):
    """Send each SmsMessage through Vonage and record its message id."""

    provider = "vonage"

    def __init__(self, fail_silently: bool = False, *, timeout: float | None = None, **kwargs) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.timeout = float(app_settings.vonage_timeout_seconds if timeout is None else timeout)

    def send_one(self, message: SmsMessage) -> None:
        from vonage_http_client.errors import HttpRequestError
        from vonage_sms import SmsMessage as VonageMessage
        from vonage_utils.errors import VonageError

        conf = app_settings
        # The SDK takes whole seconds only; a deadline's fraction rounds up.
        timeout = max(1, math.ceil(self.timeout))
        key = (
            conf.vonage_api_key,
            conf.vonage_api_secret,
            conf.vonage_signature_secret,
            conf.vonage_signature_method,
            timeout,
            conf.vonage_api_base_url,
        )
        try:
            client = _client(key)
            fields = {"to": message.to.lstrip("+"), "from_": conf.vonage_from, "text": message.body}
            if conf.vonage_status_callback_url:
                fields["callback"] = conf.vonage_status_callback_url
            response = client.sms.send(VonageMessage(**fields))
        except requests.exceptions.Timeout as exc:
            raise SmsDeliveryError("Vonage did not answer in time") from exc
        except requests.exceptions.RequestException as exc:
            raise SmsDeliveryError("Could not reach Vonage") from exc
        except HttpRequestError as exc:
            raise SmsDeliveryError(f"Vonage did not accept the message (HTTP {exc.response.status_code})") from exc
        except VonageError as exc:
            code = (ERROR_CODE.search(str(exc)) or [None, None])[1]
            raise SmsDeliveryError(
                f"Vonage refused the message (status {code})",
                provider_code=code,
                problem=PROBLEMS.get(code or "", SmsProblem.UNAVAILABLE),
            ) from exc
        except (ValueError, TypeError) as exc:  # the SDK's validation of settings, or an unreadable answer
            raise SmsDeliveryError("The Vonage client failed") from exc
        sent = response.messages[0]
        message.sid = sent.message_id or ""
        message.status = "accepted"
