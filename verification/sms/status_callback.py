"""The endpoint Twilio posts delivery receipts to (its "status callback"), and the check of Twilio's signature.

Text and WhatsApp messages report MessageSid and MessageStatus; voice calls CallSid and CallStatus. Both are
signed alike and feed the same receipts (and, with OTP_AUTO_FALLBACK, the next way).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator

from verification import services
from verification.client_ip import client_ip
from verification.conf import app_settings
from verification.sms import receipts

logger = logging.getLogger(__name__)


def signature_is_valid(url: str, params: Mapping, signature: str, auth_token: str | None = None) -> bool:
    """Return whether `signature` (X-Twilio-Signature) is Twilio's signature of a request to `url` with `params`."""
    token = app_settings.twilio_auth_token if auth_token is None else auth_token
    if not (url and token and signature):
        return False
    return RequestValidator(token).validate(url, params, signature)


# Twilio cannot send a CSRF token; its signature over the URL and every field takes that role.
@method_decorator(csrf_exempt, name="dispatch")
class StatusCallbackView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Signed for the public URL Twilio called, which behind a TLS proxy is not what
        # build_absolute_uri() rebuilds; without it no request can be authenticated.
        url = app_settings.twilio_status_callback_url
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature_is_valid(url, request.POST, signature):
            logger.warning(
                "sms status callback refused ip=%s reason=%s",
                client_ip(request),
                "bad signature" if url else "TWILIO_STATUS_CALLBACK_URL is not set",
            )
            return HttpResponseForbidden()
        sid, status = request.POST.get("MessageSid", ""), request.POST.get("MessageStatus", "")
        if not (sid and status):
            sid, status = request.POST.get("CallSid", ""), receipts.call_status(request.POST.get("CallStatus", ""))
        if not (sid and status):
            return HttpResponseBadRequest()
        services.take_receipt(sid, status, request.POST.get("ErrorCode", ""), now=timezone.now())
        # 200 also for unknown sids and stale statuses: Twilio has nothing to retry.
        return HttpResponse(status=200)
