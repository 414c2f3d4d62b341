"""SMS backend that POSTs each message as signed JSON to a URL of yours (SMS_HOOK_URL): any provider, any gateway.

The request is signed the Standard Webhooks way (https://www.standardwebhooks.com/): headers `webhook-id`
(the message's unique id, the same on a retry), `webhook-timestamp` (Unix seconds) and `webhook-signature`,
`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` for each secret of SMS_HOOK_SECRET (whsec_ followed
by base64; several, space-separated, sign together while a receiver rotates). The JSON body:

    {"id": "msg_…", "to": "+33612345678", "text": "…", "locale": "fr", "via": "sms", "timestamp": 1700000000}

A 2xx answer means the gateway took the message; its JSON may name the provider's id (`id` or `sid`) and,
when the gateway refused the number, a `problem` (invalid_number, opted_out, country_not_allowed): the
person's own problem. Any other answer (4xx, 5xx), a timeout, a refused connection or a body that is not
JSON is the provider's problem (SmsProblem.UNAVAILABLE), and the failover chain may try the next backend.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Sequence

import requests
from django.utils import translation

from verification.conf import app_settings
from verification.sms import SmsDeliveryError, SmsMessage, SmsProblem
from verification.sms.backends.base import BaseSmsBackend

#: What a 2xx answer's `problem` may say about the number.
PROBLEMS = {problem.value: problem for problem in SmsProblem if problem is not SmsProblem.UNAVAILABLE}


def secret_keys(secrets_setting: str) -> list[bytes]:
    """Return the HMAC keys of SMS_HOOK_SECRET: each whsec_<base64> secret, decoded; raise ValueError if malformed."""
    keys = []
    for secret in secrets_setting.split():
        encoded = secret.removeprefix("whsec_")
        try:
            keys.append(base64.b64decode(encoded, validate=True))
        except ValueError as exc:
            raise ValueError("an SMS_HOOK_SECRET secret is not whsec_ followed by base64") from exc
    return keys


def sign(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """Return the webhook-signature header: `v1,<base64>` per key, space-separated."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join("v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode() for key in keys)


_thread = threading.local()


def _session() -> requests.Session:
    """Return this thread's HTTP session, kept so the connection to the gateway is reused between messages."""
    session = getattr(_thread, "session", None)
    if session is None:
        session = _thread.session = requests.Session()
    return session


class SmsBackend(BaseSmsBackend):
    """POST each message to SMS_HOOK_URL, signed with SMS_HOOK_SECRET."""

    provider = "hook"
    #: The JSON carries `via`: the gateway decides how to deliver each way.
    vias = frozenset({"sms", "call", "whatsapp"})

    def __init__(
        self,
        fail_silently: bool = False,
        *,
        url: str | None = None,
        secret: str | None = None,
        timeout: float | None = None,
        **kwargs,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.url = app_settings.sms_hook_url if url is None else url
        self.secret = app_settings.sms_hook_secret if secret is None else secret
        self.timeout = float(app_settings.sms_hook_timeout_seconds if timeout is None else timeout)

    def send_one(self, message: SmsMessage) -> None:
        if not (self.url and self.secret):
            raise SmsDeliveryError("The SMS hook needs SMS_HOOK_URL and SMS_HOOK_SECRET")
        try:
            keys = secret_keys(self.secret)
        except ValueError as exc:
            raise SmsDeliveryError(str(exc)) from exc
        message_id = "msg_" + secrets.token_urlsafe(18)
        timestamp = int(time.time())
        payload = {
            "id": message_id,
            "to": message.to,
            "text": message.body,
            "locale": getattr(message, "language", "") or translation.get_language() or "",
            "via": getattr(message, "via", "sms"),
            "timestamp": timestamp,
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(keys, message_id, timestamp, body),
        }
        try:
            response = _session().post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.exceptions.Timeout as exc:
            raise SmsDeliveryError("The SMS hook did not answer in time") from exc
        except requests.exceptions.RequestException as exc:
            raise SmsDeliveryError("Could not reach the SMS hook") from exc
        if not 200 <= response.status_code < 300:
            raise SmsDeliveryError(f"The SMS hook did not take the message (HTTP {response.status_code})")
        answer = _json_object(response)
        problem = PROBLEMS.get(str(answer.get("problem") or ""))
        if problem is not None:
            raise SmsDeliveryError(f"The SMS hook refused the number ({problem.value})", problem=problem)
        if answer.get("problem"):
            raise SmsDeliveryError("The SMS hook answered with an unknown problem")
        message.sid = str(answer.get("id") or answer.get("sid") or message_id)[:64]
        message.status = "accepted" if answer.get("status") not in {"queued", "sent"} else answer["status"]


def _json_object(response: requests.Response) -> dict:
    """Return the answer's JSON object ({} for an empty body); raise UNAVAILABLE if it is anything else."""
    if not response.content.strip():
        return {}
    try:
        answer = response.json()
    except ValueError as exc:
        raise SmsDeliveryError("The SMS hook's answer is not JSON") from exc
    if not isinstance(answer, dict):
        raise SmsDeliveryError("The SMS hook's answer is not a JSON object")
    return answer
