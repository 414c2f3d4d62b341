"""The endpoint Vonage sends signed delivery receipts to; they feed the same receipts as Twilio's (sms.receipts)."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from verification import services
from verification.client_ip import client_ip
from verification.conf import app_settings

logger = logging.getLogger(__name__)

#: Vonage's delivery statuses in the receipts' terms (SentMessage.Status); others (unknown) are ignored.
STATUSES = {
    "accepted": "accepted",
    "buffered": "sending",
    "delivered": "delivered",
    "expired": "undelivered",
    "failed": "failed",
    "rejected": "failed",
}


def signature_is_valid(params: dict[str, str]) -> bool:
    """Return whether `params` carry Vonage's signature (`sig`) made with VONAGE_SIGNATURE_SECRET."""
    secret = app_settings.vonage_signature_secret
    if not (secret and params.get("sig") and app_settings.vonage_api_key):
        return False
    from vonage import Auth

    auth = Auth(
        api_key=app_settings.vonage_api_key,
        signature_secret=secret,
        signature_method=app_settings.vonage_signature_method,
    )
    return auth.check_signature(dict(params))


# Vonage cannot send a CSRF token; its signature over every field takes that role.
@method_decorator(csrf_exempt, name="dispatch")
class VonageStatusView(View):
    """Take a delivery receipt (GET query, POST form or JSON, as the account is set up to send them)."""

    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return self._receipt(request, request.GET.dict())

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.content_type == "application/json":
            try:
                params = json.loads(request.body)
            except ValueError:
                return HttpResponseBadRequest()
            if not isinstance(params, dict):
                return HttpResponseBadRequest()
            return self._receipt(request, {str(k): str(v) for k, v in params.items()})
        return self._receipt(request, request.POST.dict())

    def _receipt(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        if not signature_is_valid(params):
            logger.warning(
                "vonage delivery receipt refused ip=%s reason=%s",
                client_ip(request),
                "bad signature" if app_settings.vonage_signature_secret else "VONAGE_SIGNATURE_SECRET is not set",
            )
            return HttpResponseForbidden()
        sid, status = params.get("messageId", ""), STATUSES.get(params.get("status", ""), "")
        if not params.get("messageId") or not params.get("status"):
            return HttpResponseBadRequest()
        if status:
            error = params.get("err-code", "")
            services.take_receipt(sid, status, "" if error in ("", "0") else error, now=timezone.now())
        # 200 also for unknown ids and statuses: Vonage has nothing to retry.
        return HttpResponse(status=200)
