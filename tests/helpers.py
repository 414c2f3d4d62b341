"""What tests share: a number, one clock helper, reading codes out of SMS, fixed codes, threads released together,
posting JSON and checking API responses against docs/openapi.yaml."""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from django.db import connection
from django.test import override_settings

from verification.tokens import default_code_generator

#: The checkout: where manage.py, gunicorn.conf.py and the app live.
ROOT = Path(__file__).resolve().parent.parent
PHONE = "+33612345678"
LOCMEM_SMS = "verification.sms.backends.locmem.SmsBackend"
#: The moment tests start from; domain functions get `at(...)`, views a clock frozen there (the `frozen` fixture).
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: Codes a test can rely on being different from each other (see `fixed_codes`).
CODE_A, CODE_B, CODE_C = "111111", "222222", "333333"
Result = TypeVar("Result")


def at(seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0) -> datetime:
    """Return the moment that long after T0."""
    return T0 + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def code_in(message) -> str:
    """Return the one-time code carried by an SMS (a message or its body)."""
    return re.search(r"\b(\d{6,})\b", getattr(message, "body", message)).group(1)


def wrong_code(code: str) -> str:
    """Return a code of the same length that is certainly not `code`."""
    return "".join(str((int(d) + 1) % 10) for d in code)


@contextmanager
def fixed_codes(codes: Iterable[str]) -> Iterator[None]:
    """Make the code generator hand out `codes` in order, so a test knows every code it sends is distinct."""
    pending = iter(codes)
    default_code_generator.make_code = lambda: next(pending)
    try:
        yield
    finally:
        del default_code_generator.make_code


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def at_once(tasks: list[Callable[[], Result]]) -> list[Result]:
    """Run the callables in threads released together; return what they returned, in order."""
    barrier = threading.Barrier(len(tasks))

    def run(task: Callable[[], Result]) -> Result:
        barrier.wait()
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def in_parallel(n: int, task: Callable[[int], object]) -> list:
    """Run task(i) in n threads released together, each closing its database connection; return the results."""

    def run(i: int) -> object:
        try:
            return task(i)
        finally:
            connection.close()

    return at_once([functools.partial(run, i) for i in range(n)])


@contextmanager
def running_server(
    command: list[str], ready: str, on_line: Callable[[str], None], **popen
) -> Iterator[subprocess.Popen]:
    """Run a server until the block ends; enter once a line of its output contains `ready`, each line to `on_line`."""
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)
    listening = threading.Event()
    lines: list[str] = []

    def drain() -> None:
        # Read every line, so a chatty server never blocks on a full pipe.
        for line in server.stdout:
            lines.append(line)
            on_line(line)
            if ready in line:
                listening.set()
        listening.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        listening.wait(timeout=60)
        if server.poll() is not None:
            raise RuntimeError(f"{command[:3]} exited before it was ready:\n" + "".join(lines))
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)
        reader.join(timeout=10)


def environ_without_settings(**extra: str) -> dict[str, str]:
    """Return this process's environment minus the app's and site's settings (and any .env file), plus `extra`.

    It asks for development mode (DJANGO_DEBUG=true), as `make run` does; `extra` may ask for production.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OTP_", "SMS_", "TWILIO_"))}
    env["DJANGO_ENV_FILE"] = os.devnull
    env["DJANGO_DEBUG"] = "true"
    env.update(extra)
    return env


#: Numbers for dashboard traffic: two in one French range, one Spanish, one American, one British.
TRAFFIC_NUMBERS = ["+33612345678", "+33612345679", "+34612345678", "+14155552671", "+447911123456"]


def make_traffic(now: datetime, outbox: list) -> None:
    """Leave something in every chart of the admin dashboard, in the hour before `now` (SMS to the locmem `outbox`).

    Sends to every number but the British one, which fails; French and Spanish codes verified, the first French
    one a second time after a refused send; the American number locked; one message delivered, one undelivered;
    and sends to +33 paused by the pumping brake.
    """
    from verification import services
    from verification.models import PumpingPause, SentMessage

    start = now - timedelta(minutes=50)
    fr1, fr2, es, us, gb = TRAFFIC_NUMBERS
    for phone in (fr1, fr2, es):
        services.send_code(phone, start)
    # Locked five minutes ago, so still locked at `now`.
    services.send_code(us, now - timedelta(minutes=6))
    codes = {message.to: code_in(message) for message in outbox}
    for phone in (fr1, es):
        services.check_code(phone, codes[phone], start + timedelta(minutes=1))
    for _ in range(3):
        services.check_code(us, wrong_code(codes[us]), now - timedelta(minutes=5))
    with override_settings(SMS_BACKEND="verification.sms.backends.filebased.SmsBackend", SMS_FILE_PATH=os.devnull):
        services.send_code(gb, start + timedelta(minutes=3))
    with override_settings(OTP_SEND_LIMITS_PER_NUMBER="1/1h"):
        services.send_code(fr1, start + timedelta(minutes=20))
    SentMessage.objects.filter(verification__phone=fr1).update(status=SentMessage.Status.DELIVERED)
    SentMessage.objects.filter(verification__phone=us).update(status=SentMessage.Status.UNDELIVERED)
    PumpingPause.objects.create(
        region="FR", prefix="6123", calling_code="33", paused_at=now, paused_until=now + timedelta(hours=1), sent=40
    )


def post_json(client, path: str, body: object, **extra):
    """POST `body` as JSON with Django's test client; a str or bytes body goes as it is."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data, content_type=extra.pop("content_type", "application/json"), **extra)


def _assert_method_not_allowed(response) -> None:
    """Raise unless a 405 answer is the description's MethodNotAllowed response (its Allow header and body)."""
    from openapi_core.validation.response.exceptions import ResponseValidationError
    from openapi_schema_validator import OAS31Validator
    from openapi_spec_validator.readers import read_from_filename

    spec = read_from_filename(str(ROOT / "docs" / "openapi.yaml"))[0]
    described = spec["components"]["responses"]["MethodNotAllowed"]
    allow = described["headers"]["Allow"]["schema"]
    schema = {**spec, **described["content"]["application/json"]["schema"]}
    errors = [*OAS31Validator({**spec, **allow}).iter_errors(response.headers.get("Allow"))]
    errors += OAS31Validator(schema).iter_errors(json.loads(response.content))
    if errors:
        # Raised as openapi_core raises a response that breaks the description, the schema's error as its cause.
        raise ResponseValidationError() from errors[0]


@functools.cache
def openapi():
    """Return docs/openapi.yaml, loaded and validated as an OpenAPI 3.1 document."""
    from openapi_core import OpenAPI

    return OpenAPI.from_file_path(str(ROOT / "docs" / "openapi.yaml"))


def assert_in_openapi(response) -> None:
    """Raise unless `response` (Django's test client's or a requests one) is one docs/openapi.yaml describes.

    The description has POST operations only and says that any other method gets the MethodNotAllowed response
    of its components: a 405 to another method is checked against that response.
    """
    import requests

    method = response.request.method if isinstance(response, requests.Response) else response.wsgi_request.method
    status = response.status_code
    if status == 405 and method != "POST":
        _assert_method_not_allowed(response)
        return

    if isinstance(response, requests.Response):
        from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

        openapi().validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
    else:
        from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

        openapi().validate_response(DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response))
