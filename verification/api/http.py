"""JSON in and out: read a request's body as a JSON object, answer in JSON, refuse with an ApiError."""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse, RawPostDataException, UnreadablePostError
from django.utils.translation import gettext as _

#: The largest body read; the API's requests are under 200 bytes, or a few kilobytes with a bot challenge's token
#: (verification.bot_challenge.MAX_TOKEN_LENGTH), so anything near this is not a client of ours.
MAX_BODY_BYTES = 16384


class ApiError(Exception):
    """Raise to answer with `{"error": code, "message": message, **fields}` and `status`.

    With `retry_in` (seconds), the body says it and a Retry-After header says it too.
    """

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **fields):
        super().__init__(code)
        self.status, self.code, self.message, self.fields = status, code, str(message), fields
        self.headers = dict(headers or {})
        if "retry_in" in fields:
            self.headers["Retry-After"] = str(fields["retry_in"])

    def response(self) -> JsonResponse:
        """Return the JSON answer this error stands for."""
        return answer({"error": self.code, "message": self.message, **self.fields}, self.status, self.headers)


def answer(body: dict, status: int = 200, headers: dict[str, str] | None = None) -> JsonResponse:
    """Return `body` as a JSON response."""
    return JsonResponse(body, status=status, headers=headers, json_dumps_params={"ensure_ascii": False})


def read_object(request: HttpRequest) -> dict[str, object]:
    """Return the request's body as a JSON object; raise ApiError for another media type, size or shape."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", _("Send the request body as application/json."))
    # RFC 8259: JSON exchanged between systems is UTF-8.
    if request.content_params.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type", _("Send the request body as application/json."))
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        # Refused before reading: a client announcing megabytes gets its answer without sending them.
        raise ApiError(413, "too_large", _("The request body is too large."))
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise ApiError(413, "too_large", _("The request body is too large.")) from exc
    except (UnreadablePostError, RawPostDataException) as exc:
        raise ApiError(400, "invalid_json", _("The request body must be a JSON object.")) from exc
    try:
        data = json.loads(body.decode("utf-8"))
        # A lone surrogate ("\ud800") is a valid JSON escape but no text: it could not even be echoed back.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    # RecursionError: deeply nested arrays, which the size limit still lets through.
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "invalid_json", _("The request body must be a JSON object.")) from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", _("The request body must be a JSON object."))
    return data
