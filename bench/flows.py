"""What the bench's clients do: the site's pages and flows, and the floors' two views."""

from __future__ import annotations

import itertools
import json
import secrets
from dataclasses import dataclass

from bench.http_client import HttpClient, HttpError, Response
from bench.provider import BenchTwilio

#: Numbers the load uses: French mobiles +33 61x xx xx xx, one per send, so no resend cooldown gets in the way.
LOAD_PREFIX = "+3361"


def expect(response: Response, status: int, location: str | None = None) -> Response:
    """Return the response if it has the status (and redirect target) a working site gives; raise otherwise."""
    if response.status != status or (location is not None and not response.location.endswith(location)):
        where = f" -> {response.location}" if response.location else ""
        raise HttpError(f"expected {status} {location or ''}, got {response.status}{where}")
    return response


def wrong(code: str) -> str:
    """Return a code of the same length that is certainly not `code`."""
    return "".join(str((int(d) + 1) % 10) for d in code)


@dataclass
class Site:
    """The flows of the verification site, reading codes from the fake provider."""

    provider: BenchTwilio

    def __post_init__(self) -> None:
        self._numbers = itertools.count()

    def new_number(self) -> str:
        """Return a number no client has used in this run."""
        return f"{LOAD_PREFIX}{next(self._numbers):07d}"

    def visit(self, client: HttpClient) -> str:
        """Open the phone page as a browser does first; return the form's CSRF token."""
        return expect(client.get("/"), 200).csrf_token()

    def phone_page(self, client: HttpClient, _state=None) -> str:
        """Reload the phone page."""
        expect(client.get("/"), 200)
        return "200"

    def send(self, client: HttpClient, token: str) -> str:
        """Ask for a code for a new number."""
        expect(client.post("/", {"phone": self.new_number(), "csrfmiddlewaretoken": token}), 302, "/verify/")
        return "sent"

    def guesser(self, client: HttpClient) -> tuple[str, str]:
        """Get a code for a new number; return the CSRF token and a wrong code to keep guessing."""
        token = self.visit(client)
        phone = self.new_number()
        expect(client.post("/", {"phone": phone, "csrfmiddlewaretoken": token}), 302, "/verify/")
        return token, wrong(self.provider.code_for(phone))

    def wrong_guess(self, client: HttpClient, state: tuple[str, str]) -> str:
        """Post a wrong code: the attacker's request."""
        token, code = state
        response = client.post("/verify/", {"code": code, "csrfmiddlewaretoken": token})
        if response.status == 302 and response.location.endswith("/locked/"):
            return "locked"
        expect(response, 200)
        if b"does not match" not in response.body:
            raise HttpError("a wrong code was not refused as wrong")
        return "mismatch"

    def api_guesser(self, client: HttpClient) -> tuple[str, str]:
        """Get a code for a new number through the API; return its challenge and a wrong code to keep checking."""
        phone = self.new_number()
        response = expect(client.post_json("/api/v1/send", {"phone": phone}), 201)
        return json.loads(response.body)["challenge"], wrong(self.provider.code_for(phone))

    def api_wrong_guess(self, client: HttpClient, state: tuple[str, str]) -> str:
        """Post a wrong code to the API: the attacker's request, as an app would send it."""
        challenge, code = state
        response = client.post_json("/api/v1/check", {"challenge": challenge, "code": code})
        if response.status not in (400, 423):
            raise HttpError(f"expected 400 or 423, got {response.status}")
        error = json.loads(response.body)["error"]
        if error not in ("mismatch", "locked"):
            raise HttpError(f"a wrong code was answered {error!r}")
        return error

    def verification(self, client: HttpClient, _state=None) -> str:
        """Verify a new number as a new visitor: phone page, send, code page, correct code."""
        client.forget_cookies()
        token = self.visit(client)
        phone = self.new_number()
        expect(client.post("/", {"phone": phone, "csrfmiddlewaretoken": token}), 302, "/verify/")
        expect(client.get("/verify/"), 200)
        code = self.provider.code_for(phone)
        expect(client.post("/verify/", {"code": code, "csrfmiddlewaretoken": token}), 302, "/verified/")
        return "verified"

    def sign_in(self, client: HttpClient, _state=None) -> str:
        """Sign in with a new number as a new visitor (sign-up on): sign-in page, send, code page, correct code."""
        client.forget_cookies()
        token = expect(client.get("/sign-in/"), 200).csrf_token()
        phone = self.new_number()
        expect(client.post("/sign-in/", {"phone": phone, "csrfmiddlewaretoken": token}), 302, "/sign-in/verify/")
        expect(client.get("/sign-in/verify/"), 200)
        code = self.provider.code_for(phone)
        expect(client.post("/sign-in/verify/", {"code": code, "csrfmiddlewaretoken": token}), 302, "/signed-in/")
        return "signed_in"


def floor_page(client: HttpClient, _state=None) -> str:
    """Get the floor's template page."""
    expect(client.get("/"), 200)
    return "200"


def csrf_cookie(client: HttpClient) -> str:
    """Give the client a CSRF cookie of its own and return the token a form would carry with it."""
    token = secrets.token_hex(16)
    client.cookies["csrftoken"] = token
    return token


def floor_write(client: HttpClient, token: str | None = None) -> str:
    """Post to a floor's one-row view, with a form about the size of a code form (and a CSRF token, if given)."""
    expect(client.post("/write/", {"value": "123456", "csrfmiddlewaretoken": token or "x" * 64}), 200)
    return "200"
