"""The bot challenge (Cloudflare Turnstile or hCaptcha): asked before a send only when the send looks risky.

`screen` decides one send before anything is claimed: not needed (challenge off, a test number, or no risk
signal from `limits.risk`, unless OTP_BOT_CHALLENGE_WHEN is "always"), or the token the widget gave the
client is checked with the provider's siteverify endpoint (secret, token, client IP). Only the answer's
`success` and, when the provider reports it, `hostname` are trusted. A provider that cannot be reached fails
closed: nothing is sent. Each screened send is counted in otp_bot_challenges_total{outcome} and, when a
challenge was needed, in the hourly BotChallengeTally the dashboard reads.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils.translation import gettext_lazy as _

from verification import metrics, test_numbers
from verification.bot_challenge_providers import (  # noqa: F401 (part of this module's interface)
    PROVIDERS,
    Provider,
    Widget,
    csp_sources,
    provider,
    script_url,
    widget,
)
from verification.client_ip import client_ip as client_ip_of
from verification.conf import app_settings
from verification.limits import risk
from verification.models import BotChallengeTally
from verification.outcomes import BotChallengeOutcome as Outcome
from verification.phone_numbers import mask

logger = logging.getLogger(__name__)

#: The longest token taken: Turnstile's are at most 2,048 characters, hCaptcha's a few thousand.
MAX_TOKEN_LENGTH = 8192
#: Printable ASCII without spaces: what both providers' tokens are made of.
TOKEN = re.compile(r"[\x21-\x7e]+")
#: The most of the provider's answer read: a siteverify answer is a few hundred bytes.
MAX_ANSWER_BYTES = 65536


MISSING_MESSAGE = _("Please confirm that you are not a robot, then ask for the code again.")
FAILED_MESSAGE = _("We could not confirm that you are not a robot. Please do the check again.")
UNREACHABLE_MESSAGE = _("We could not check that you are not a robot right now. Please try again in a moment.")


@dataclass(frozen=True)
class Screening:
    """The challenge's decision on one send."""

    outcome: Outcome
    #: Why a challenge was needed: "always" or the risk signal ("ip", "range", "budget", "number").
    signal: str = ""
    #: Whether the request carried no token at all.
    missing: bool = False

    @property
    def passed(self) -> bool:
        """Return whether the send may go on."""
        return self.outcome in (Outcome.NOT_NEEDED, Outcome.PASSED)

    @property
    def message(self) -> str:
        """Return what to tell the person when the send may not go on."""
        if self.outcome is Outcome.UNREACHABLE:
            return str(UNREACHABLE_MESSAGE)
        return str(MISSING_MESSAGE if self.missing else FAILED_MESSAGE)


def needed(now: datetime, *, phone: str | None = None, client_ip: str | None = None) -> Widget | None:
    """Return the widget to show if a send (to `phone`, when known) from `client_ip` needs a challenge, else None.

    Counts nothing: for pages that show the widget before the form is sent.
    """
    shown = widget()
    if shown is None or (phone is not None and test_numbers.is_test_number(phone, now)):
        return None
    if app_settings.bot_challenge_when == "always":
        return shown
    return shown if risk.risk_signal(now, phone=phone, client_ip=client_ip) else None


def screen(token: object, *, phone: str, client_ip: str | None, hostnames: frozenset[str], now: datetime) -> Screening:
    """Decide whether a send to `phone` may go on: no challenge needed, or `token` passed the provider's check.

    `hostnames` are the sites a token may have been solved on (OTP_BOT_CHALLENGE_HOSTNAMES, else the request's
    host). Counts the outcome; a test number, or a site with the challenge off, is not screened nor counted.
    """
    chosen = provider()
    if chosen is None or test_numbers.is_test_number(phone, now):
        return Screening(Outcome.NOT_NEEDED)
    always = app_settings.bot_challenge_when == "always"
    signal = "always" if always else risk.risk_signal(now, phone=phone, client_ip=client_ip)
    if signal is None:
        metrics.count(metrics.BOT_CHALLENGES, outcome=Outcome.NOT_NEEDED.value)
        return Screening(Outcome.NOT_NEEDED)
    missing = token is None or token == ""
    outcome = Outcome.FAILED if missing else verify(chosen, token, client_ip=client_ip, hostnames=hostnames)
    _tally(outcome, now)
    log = logger.warning if outcome is Outcome.UNREACHABLE else logger.info
    log(
        "bot challenge %s signal=%s phone=%s client_ip=%s%s",
        outcome.value,
        signal,
        mask(phone),
        client_ip or "",
        " token=missing" if missing else "",
    )
    return Screening(outcome, signal=signal, missing=missing)


def screen_request(request: HttpRequest, token: object, *, phone: str, now: datetime) -> Screening:
    """Screen a send asked for by `request`: its client IP, and its host as the site the token must come from."""
    return screen(token, phone=phone, client_ip=client_ip_of(request), hostnames=hostnames(request), now=now)


def hostnames(request: HttpRequest) -> frozenset[str]:
    """Return the host names a token may have been solved on: OTP_BOT_CHALLENGE_HOSTNAMES, else the request's."""
    configured = app_settings.bot_challenge_hostnames
    if configured:
        return configured
    host, _port = split_domain_port(request.get_host())
    return frozenset({host.lower()})


def token_in(data) -> object:
    """Return the token the widget put in a form's `data` (a QueryDict), or None."""
    chosen = provider()
    return data.get(chosen.response_field) if chosen is not None else None


def well_formed(token: object) -> bool:
    """Return whether `token` could be a provider's token: text, not too long, printable, no spaces."""
    return isinstance(token, str) and len(token) <= MAX_TOKEN_LENGTH and TOKEN.fullmatch(token) is not None


def verify(chosen: Provider, token: object, *, client_ip: str | None, hostnames: frozenset[str]) -> Outcome:
    """Check `token` with the provider's siteverify endpoint: PASSED, FAILED or UNREACHABLE (never raises)."""
    if not well_formed(token):
        return Outcome.FAILED
    form = {"secret": app_settings.bot_challenge_secret, "response": token}
    if _is_ip(client_ip):
        form["remoteip"] = client_ip
    if chosen.name == "hcaptcha":
        # hCaptcha refuses a token solved for another site key when it is given one.
        form["sitekey"] = app_settings.bot_challenge_site_key
    url = app_settings.bot_challenge_verify_url or chosen.verify_url
    request = urllib.request.Request(
        url,
        data=urlencode(form).encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=app_settings.bot_challenge_timeout_seconds) as response:
            body = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        logger.warning("bot challenge provider answered HTTP %s", exc.code)
        return Outcome.UNREACHABLE
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # URLError, timeouts and refused connections are OSErrors; a malformed URL is a ValueError.
        logger.warning("bot challenge provider unreachable: %s", exc.__class__.__name__)
        return Outcome.UNREACHABLE
    try:
        answer = json.loads(body) if len(body) <= MAX_ANSWER_BYTES else None
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        logger.warning("bot challenge provider gave an answer that is not a JSON object")
        return Outcome.UNREACHABLE
    if answer.get("success") is not True:
        return Outcome.FAILED
    reported = answer.get("hostname")
    if reported and (not isinstance(reported, str) or reported.lower() not in hostnames):
        # A token solved on another site that uses the same keys (or a copy of this page elsewhere).
        return Outcome.FAILED
    return Outcome.PASSED


def _is_ip(address: str | None) -> bool:
    try:
        ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return True


def _tally(outcome: Outcome, now: datetime) -> None:
    """Count a send that needed a challenge, in the metrics and in its hour's tally."""
    metrics.count(metrics.BOT_CHALLENGES, outcome=outcome.value)
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = BotChallengeTally.objects.filter(hour=hour, outcome=outcome.value)
    with transaction.atomic():
        if rows.update(count=F("count") + 1):
            return
        try:
            with transaction.atomic():
                BotChallengeTally.objects.create(hour=hour, outcome=outcome.value, count=1)
        except IntegrityError:
            # Another worker created this hour's row first.
            rows.update(count=F("count") + 1)


def tallies(since: datetime, until: datetime) -> dict[str, int]:
    """Return the sends that needed a challenge between two moments, by outcome (whole hours from `since`'s)."""
    hour = since.replace(minute=0, second=0, microsecond=0)
    counts = dict.fromkeys(BotChallengeTally.Outcome.values, 0)
    rows = BotChallengeTally.objects.filter(hour__gte=hour, hour__lte=until).values_list("outcome", "count")
    for outcome, count in rows:
        counts[outcome] = counts.get(outcome, 0) + count
    return counts
