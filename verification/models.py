"""What the app stores.

- PhoneVerification: one row per number: its live code (hashed), cooldown, failures and lock; the
  state changes through its methods.
- SentMessage: each SMS handed to the provider, with its latest delivery receipt.
- VerificationEvent: the audit trail, one row per thing that happened to a number; Dashboard, the admin's charts of it.
- VerifiedPhone: a number a logged-in user verified, for the host project to read.
- SignInNumber: the number that signs a user in (passwordless sign-in, the second factor): one per user, one user
  per number.
- PendingPhone: a number a user gave to django-allauth that no code has confirmed yet.
- RateEvent, PumpingTally, PumpingPause: what the send limits and the pumping brake count, per number range
  (verification.limits).
- BotChallengeTally: sends that needed a bot challenge, per hour and outcome (verification.bot_challenge).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from verification.conf import app_settings
from verification.limits.refusal import Reason, Refusal
from verification.tokens import default_code_generator
from verification.vias import Via


class Flow(models.TextChoices):
    """Why a code was sent; a code works only in the flow that asked for it."""

    VERIFY = "verify", _("verification")
    SIGN_IN = "sign_in", _("sign-in")
    SECOND_FACTOR = "second_factor", _("second factor")


class PhoneVerificationQuerySet(models.QuerySet):
    def give_back_cooldown(self, phone: str, cooldown_ends: datetime) -> int:
        """End the cooldown a send claimed if no other send claimed one since: that SMS never left."""
        return self.filter(phone=phone, next_send_at=cooldown_ends).update(next_send_at=None)

    def store_code(
        self,
        pk: int,
        code_hash: str,
        now: datetime,
        cooldown_ends: datetime,
        flow: str = Flow.VERIFY,
        *,
        checked_by: str = "",
        via: str = Via.SMS,
        language: str = "",
        challenge: str = "",
    ) -> dict[str, object] | None:
        """Make the code hashed as `code_hash` (sent for `flow`, by `via`) the live code of row `pk` in one UPDATE,
        unless the number is locked at `now`; return the fields set (challenge, code_expires_at, ...), or None when
        locked.

        `checked_by` names the provider that checks this code (Twilio Verify), "" when the app checks its hash.
        `challenge`: keep this challenge rather than make a new one (see new_code_fields)."""
        # Convention 3: the UPDATE matches only an unlocked row, and the affected-row count decides.
        fields = PhoneVerification.new_code_fields(
            code_hash, now, cooldown_ends, flow, checked_by, via=via, language=language, challenge=challenge
        )
        stored = (
            self.filter(pk=pk)
            .exclude(locked_until__gt=now)
            .update(**fields, send_count=models.F("send_count") + 1, updated_at=now)
        )
        return fields if stored else None

    def reopen_resend(self, pk: int, sent_at: datetime, now: datetime) -> int:
        """End the cooldown that the code sent at `sent_at` started, if it is still the number's latest code."""
        # last_sent_at: no newer code was sent since. next_send_at no later than this code's own
        # cooldown: a send claimed meanwhile (SMS in flight, not stored yet) keeps its cooldown.
        return self.filter(
            pk=pk, last_sent_at=sent_at, next_send_at__gt=now, next_send_at__lte=PhoneVerification.cooldown_end(sent_at)
        ).update(next_send_at=now)


class PhoneVerification(models.Model):
    """The verification state of one phone number, shared by every browser that uses it."""

    phone = models.CharField(_("phone number"), max_length=16, unique=True, help_text=_("E.164, e.g. +33612345678."))
    code_hash = models.CharField(
        max_length=128, blank=True, help_text=_("Keyed hash of the live code; empty when no code is live.")
    )
    code_expires_at = models.DateTimeField(null=True, blank=True, help_text=_("When the live code stops working."))
    failed_attempts = models.PositiveIntegerField(
        default=0, help_text=_("Wrong codes in a row since the last success or lock.")
    )
    locked_until = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text=_("No code is sent or checked before this time.")
    )
    next_send_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Earliest time another code may be sent (the resend cooldown).")
    )
    last_sent_at = models.DateTimeField(null=True, blank=True, help_text=_("When the last code was sent."))
    send_count = models.PositiveIntegerField(default=0, help_text=_("Codes sent to this number, ever."))
    verified_at = models.DateTimeField(null=True, blank=True, help_text=_("When a code was last entered correctly."))
    last_via = models.CharField(
        _("last sent by"),
        max_length=8,
        choices=Via.choices,
        default=Via.SMS,
        help_text=_("How the last code went: text message, voice call or WhatsApp."),
    )
    last_language = models.CharField(
        max_length=16,
        blank=True,
        help_text=_("The language of the page that asked for the last code, so a code sent again speaks it too."),
    )
    challenge = models.CharField(
        max_length=32, blank=True, help_text=_("Id of the last send; only the browser that asked for it may use it.")
    )
    flow = models.CharField(
        _("flow"),
        max_length=16,
        choices=Flow.choices,
        default=Flow.VERIFY,
        help_text=_("Why the last code was sent: the live code works only in that flow."),
    )
    checked_by = models.CharField(
        _("checked by"),
        max_length=32,
        blank=True,
        help_text=_("The provider that checks the live code (twilio_verify); empty: the app checks its own hash."),
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text=_("When the number was first seen."))
    updated_at = models.DateTimeField(auto_now=True, help_text=_("When this record last changed."))

    objects = PhoneVerificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.phone

    def is_locked(self, now: datetime) -> bool:
        """Return whether the number is locked at `now`."""
        return self.locked_until is not None and self.locked_until > now

    def has_live_code(self, now: datetime) -> bool:
        """Return whether a code was sent and is neither used, killed nor expired."""
        return bool(self.code_hash) and self.code_expires_at is not None and self.code_expires_at > now

    def in_cooldown(self, now: datetime) -> bool:
        """Return whether a new send must wait."""
        return self.next_send_at is not None and self.next_send_at > now

    def send_refusal(self, now: datetime) -> Refusal | None:
        """Return why no code may be sent to this number now (locked, or in its resend cooldown), or None."""
        if self.is_locked(now):
            return Refusal(Reason.LOCKED, self.locked_until)
        if self.in_cooldown(now):
            return Refusal(Reason.COOLDOWN, self.next_send_at)
        return None

    @staticmethod
    def cooldown_end(sent_at: datetime) -> datetime:
        """Return when the resend cooldown of a code sent at `sent_at` ends."""
        return sent_at + timedelta(seconds=app_settings.resend_cooldown_seconds)

    def start_cooldown(self, now: datetime) -> None:
        """Start the resend cooldown of a send claimed at `now`."""
        self.next_send_at = self.cooldown_end(now)

    #: What set_code changes.
    SET_CODE_CHANGES = (
        "code_hash",
        "code_expires_at",
        "next_send_at",
        "last_sent_at",
        "send_count",
        "challenge",
        "flow",
        "checked_by",
        "last_via",
        "last_language",
    )

    def set_code(
        self,
        code_hash: str,
        now: datetime,
        cooldown_ends: datetime,
        flow: str = Flow.VERIFY,
        *,
        via: str = Via.SMS,
        language: str = "",
    ) -> None:
        """Make the code hashed as `code_hash` (sent at `now` for `flow`, by `via`) the live code, bound to a new
        challenge."""
        # The caller hashes the code (default_code_generator.make_hash) before taking the row's lock.
        fields = self.new_code_fields(code_hash, now, cooldown_ends, flow, via=via, language=language)
        for name, value in fields.items():
            setattr(self, name, value)
        self.send_count += 1

    @staticmethod
    def new_code_fields(
        code_hash: str,
        now: datetime,
        cooldown_ends: datetime,
        flow: str = Flow.VERIFY,
        checked_by: str = "",
        *,
        via: str = Via.SMS,
        language: str = "",
        challenge: str = "",
    ) -> dict[str, object]:
        """Return what a new live code sets (all of SET_CODE_CHANGES but send_count, which goes up by one).

        `challenge`: keep this one (a code the site sent by itself, for the browser already waiting) instead of a
        new one.
        """
        # checked_by is set with every code: a code the app made must never be sent to a provider to check.
        return {
            "code_hash": code_hash,
            "flow": str(flow),
            "checked_by": checked_by,
            "code_expires_at": now + timedelta(seconds=app_settings.ttl_seconds),
            "next_send_at": cooldown_ends,
            "last_sent_at": now,
            "challenge": challenge or secrets.token_hex(16),
            "last_via": str(via),
            "last_language": language,
        }

    def code_matches(self, code: str) -> bool:
        """Return whether `code` is the live code, in constant time."""
        return default_code_generator.check_code(self.phone, code, self.code_hash)

    def mark_verified(self, now: datetime) -> None:
        """Use up the live code and clear the failures: the number is verified."""
        self.kill_code()
        self.failed_attempts = 0
        self.verified_at = now

    def register_failure(self, now: datetime) -> bool:
        """Count a wrong code; at OTP_MAX_ATTEMPTS lock the number and kill its code. Return whether it locked."""
        self.failed_attempts += 1
        if self.failed_attempts < app_settings.max_attempts:
            return False
        self.locked_until = now + timedelta(seconds=app_settings.lockout_seconds)
        self.kill_code()
        return True

    def attempts_left(self) -> int:
        """Return how many wrong codes the number can take before it locks."""
        return max(0, app_settings.max_attempts - self.failed_attempts)

    def end_expired_lock(self, now: datetime) -> bool:
        """Clear a lock that has run out and reset the failure count; return whether it did."""
        if self.locked_until is None or self.locked_until > now:
            return False
        self.unlock()
        return True

    def unlock(self) -> None:
        """Lift the lock and forget the failures."""
        self.locked_until = None
        self.failed_attempts = 0

    def kill_code(self) -> None:
        """Make the live code unusable and let a new one be sent at once."""
        self.code_hash = ""
        self.code_expires_at = None
        self.next_send_at = None

    #: What a check decides on; any other request that changes one of them changes the decision.
    CHECKED_STATE = ("code_hash", "failed_attempts", "locked_until")
    #: What checking a code may change.
    CHECK_CHANGES = ("code_hash", "code_expires_at", "next_send_at", "failed_attempts", "locked_until", "verified_at")

    def checked_state(self) -> dict[str, object]:
        """Return the fields a check reads or may change, as they are now, for `save_check`."""
        return {name: getattr(self, name) for name in self.CHECKED_STATE + self.CHECK_CHANGES}

    def save_check(self, read: dict[str, object], now: datetime) -> bool:
        """Write what a check changed since `read` in one UPDATE, unless the row changed since; return whether."""
        # Convention 3: the UPDATE matches only the row as it was read, and the affected-row count decides.
        changes = {name: getattr(self, name) for name in self.CHECK_CHANGES if getattr(self, name) != read[name]}
        if not changes:
            return True
        self.updated_at = now
        unchanged = {name: read[name] for name in self.CHECKED_STATE}
        return bool(
            PhoneVerification.objects.filter(pk=self.pk, **unchanged).update(**changes, updated_at=self.updated_at)
        )


class SentMessage(models.Model):
    """One SMS handed to the provider for a number, and the latest delivery receipt for it."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("accepted")
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        UNDELIVERED = "undelivered", _("undelivered")
        FAILED = "failed", _("failed")

    verification = models.ForeignKey(
        PhoneVerification,
        on_delete=models.CASCADE,
        related_name="sent_messages",
        verbose_name=_("phone verification"),
        help_text=_("The number the message went to."),
    )
    # NULL, not "", for backends without provider ids, so the unique index ignores them.
    sid = models.CharField(
        _("message SID"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The provider's id for the message (Twilio: SM…); empty for local backends."),
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, help_text=_("The latest status the provider reported.")
    )
    error_code = models.CharField(
        max_length=16, blank=True, help_text=_("The provider's error code for an undelivered or failed message.")
    )
    sent_at = models.DateTimeField(
        help_text=_("When the code was sent: the moment the send was claimed, just before the provider was called.")
    )
    status_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the latest delivery receipt arrived; empty before the first one.")
    )
    provider_seconds = models.FloatField(
        _("provider's answer time"),
        null=True,
        blank=True,
        help_text=_("Seconds the SMS provider took to accept the message; empty for messages sent before it was kept."),
    )
    provider = models.CharField(
        _("provider"),
        max_length=32,
        blank=True,
        help_text=_("Who carried the message (twilio, vonage, hook…); empty for messages sent before it was kept."),
    )
    failed_over = models.BooleanField(
        _("failed over"), default=False, help_text=_("Another provider failed or was down before this one took it.")
    )
    via = models.CharField(
        _("via"),
        max_length=8,
        choices=Via.choices,
        default=Via.SMS,
        help_text=_("How the code travelled: text message, voice call or WhatsApp."),
    )
    automatic = models.BooleanField(
        default=False,
        help_text=_("Sent by the site itself (OTP_AUTO_FALLBACK) because the previous code was not delivered."),
    )

    class Meta:
        verbose_name = _("sent message")
        verbose_name_plural = _("sent messages")
        ordering = ["-sent_at", "-id"]
        # The dashboard's delivery figures read a window of sent_at and nothing outside this index.
        indexes = [models.Index(fields=["sent_at", "status", "provider_seconds"], name="sent_message_dashboard")]

    def __str__(self) -> str:
        return self.sid or f"#{self.pk}"


class VerificationEvent(models.Model):
    """One thing that happened to a number, written in the transaction that made it happen."""

    class Kind(models.TextChoices):
        SENT = "sent", _("code sent")
        SEND_FAILED = "send_failed", _("send failed")
        WRONG_CODE = "wrong_code", _("wrong code")
        LOCKED = "locked", _("locked")
        VERIFIED = "verified", _("verified")
        UNLOCKED = "unlocked", _("unlocked")
        RATE_LIMITED = "rate_limited", _("rate limited")
        #: A sign-in code for a number that signs in no account: stored like any code, never sent.
        WITHHELD = "withheld", _("code withheld (no account)")
        SIGNED_IN = "signed_in", _("signed in")

    class Channel(models.TextChoices):
        WEB = "web", _("pages")
        API = "api", _("JSON API")
        #: django-allauth's pages, through verification.contrib.allauth.AccountAdapter.
        ALLAUTH = "allauth", _("django-allauth")
        #: django-two-factor-auth's pages, through verification.contrib.two_factor.Gateway.
        TWO_FACTOR = "two_factor", _("django-two-factor-auth")

    # The number itself rather than a key to its row: the trail outlives a purged record,
    # and a rate-limited request may have no record at all.
    provider = models.CharField(
        _("provider"),
        max_length=32,
        blank=True,
        help_text=_("For a sent or failed code: the SMS provider that took it or last refused it."),
    )
    phone = models.CharField(
        _("phone number"), max_length=16, blank=True, help_text=_("E.164; empty when the event concerns no number.")
    )
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices, help_text=_("What happened."))
    client_ip = models.GenericIPAddressField(
        _("client IP"), null=True, blank=True, help_text=_("Address of the request that caused it, if any.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Staff member who unlocked the number from the admin."),
    )
    region = models.CharField(
        _("region"), max_length=2, blank=True, help_text=_("ISO region of the number, e.g. FR; empty when unknown.")
    )
    number_range = models.CharField(
        _("number range"),
        max_length=16,
        blank=True,
        help_text=_("The range the number belongs to, as the pumping brake judges it, e.g. +44 7400."),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True, help_text=_("When it happened."))
    limit = models.CharField(
        _("limit"),
        max_length=16,
        blank=True,
        help_text=_("For a refused send: the limit that refused it (number, ip, session, budget or pumping)."),
    )
    key = models.CharField(
        _("refused key"),
        max_length=64,
        blank=True,
        help_text=_(
            "For a refused send: whose sends the limit refused (the number, the client's network, a hash of "
            "the session, all, or the number range)."
        ),
    )
    count = models.PositiveIntegerField(
        _("count"),
        default=1,
        help_text=_("How many requests the event stands for: a limit's refusals of one key in one hour are one event."),
    )
    channel = models.CharField(
        _("channel"),
        max_length=16,
        choices=Channel.choices,
        blank=True,
        help_text=_(
            "Where the request that caused it came in: the pages, the JSON API, django-allauth's or "
            "django-two-factor-auth's pages; empty otherwise."
        ),
    )
    via = models.CharField(
        _("via"),
        max_length=8,
        choices=Via.choices,
        blank=True,
        help_text=_("For a code sent or not sent: how it travelled (text message, voice call, WhatsApp)."),
    )
    automatic = models.BooleanField(
        _("automatic"),
        default=False,
        help_text=_("Sent by the site itself after the previous code was not delivered (OTP_AUTO_FALLBACK)."),
    )
    flow = models.CharField(
        _("flow"),
        max_length=16,
        choices=Flow.choices,
        blank=True,
        help_text=_("Why the code concerned was sent: verification, sign-in or second factor; empty otherwise."),
    )
    is_test = models.BooleanField(
        _("test number"),
        default=False,
        help_text=_("The event concerns a test number (OTP_TEST_NUMBERS): no SMS was sent and no limit counted it."),
    )

    class Meta:
        verbose_name = _("verification event")
        verbose_name_plural = _("verification events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["phone", "-created_at"], name="verification_event_history"),
            models.Index(fields=["limit", "key", "created_at"], name="verification_event_refusals"),
            # Every column the dashboard reads, kind first: each of its queries is a few range scans of this index
            # (one per kind and window), never of the table, and the counts come out grouped by kind.
            models.Index(
                fields=["kind", "created_at", "region", "number_range", "count"], name="verification_event_dashboard"
            ),
            # The dashboard's split by flow.
            models.Index(fields=["kind", "flow", "created_at"], name="verification_event_flows"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M:%S}"


class VerifiedPhoneQuerySet(models.QuerySet):
    def record(self, user: models.Model, phone: str, now: datetime) -> VerifiedPhone:
        """Store that `user` verified `phone` at `now`: one row per user and number, updated when verified again."""
        row, _created = self.update_or_create(user=user, phone=phone, defaults={"verified_at": now})
        return row

    def latest_for(self, user: models.Model) -> VerifiedPhone | None:
        """Return the number `user` verified most recently, or None."""
        return self.filter(user=user).order_by("-verified_at", "-id").first()


class VerifiedPhone(models.Model):
    """A number verified by a logged-in user: what the host project reads (verification.shortcuts)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="verified_phones",
        help_text=_("The account that was logged in when the number was verified."),
    )
    phone = models.CharField(_("phone number"), max_length=16, help_text=_("E.164, e.g. +33612345678."))
    verified_at = models.DateTimeField(_("verified at"), help_text=_("When this user last verified this number."))

    objects = VerifiedPhoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("verified phone")
        verbose_name_plural = _("verified phones")
        ordering = ["-verified_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "phone"], name="verified_phone_per_user")]

    def __str__(self) -> str:
        return self.phone


class SignInNumber(models.Model):
    """The number that signs a user in: by code alone (sign-in) or after the password (second factor)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="sign_in_number",
        help_text=_("The account this number signs in."),
    )
    # Unique: a number signs in at most one account, whatever races to claim it.
    phone = models.CharField(_("phone number"), max_length=16, unique=True, help_text=_("E.164, e.g. +33612345678."))
    set_at = models.DateTimeField(_("set at"), help_text=_("When the number became this account's sign-in number."))

    class Meta:
        verbose_name = _("sign-in number")
        verbose_name_plural = _("sign-in numbers")
        ordering = ["-set_at", "-id"]

    def __str__(self) -> str:
        return self.phone


class PendingPhone(models.Model):
    """A number a user gave to django-allauth (sign-up, phone change) that no code has confirmed yet.

    It signs nobody in and may be given by several accounts; the first to type the code sent to it makes it
    their sign-in number (verification.contrib.allauth.AccountAdapter).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="pending_phone",
        help_text=_("The account that gave the number."),
    )
    phone = models.CharField(_("phone number"), max_length=16, help_text=_("E.164, e.g. +33612345678."))
    given_at = models.DateTimeField(_("given at"), help_text=_("When the account gave the number."))

    class Meta:
        verbose_name = _("unconfirmed number")
        verbose_name_plural = _("unconfirmed numbers")

    def __str__(self) -> str:
        return self.phone


class Dashboard(VerificationEvent):
    """The admin's dashboard of charts over the audit trail: a proxy, so the admin lists and routes it; no table."""

    class Meta:
        proxy = True
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboard")
        # Who may see it is decided by the view permission on phone verifications.
        default_permissions = ()


class RateEvent(models.Model):
    """One send counted toward a limit: who (scope and key) and when; old rows are pruned as sends go by."""

    scope = models.CharField(max_length=16, help_text=_("What is limited: number, ip, session or budget."))
    key = models.CharField(max_length=64, help_text=_("Whose sends: the number, the IP, a hash of the session."))
    at = models.DateTimeField(help_text=_("When the send was counted."))

    class Meta:
        verbose_name = _("rate event")
        verbose_name_plural = _("rate events")
        indexes = [models.Index(fields=["scope", "key", "at"]), models.Index(fields=["at"])]


class PumpingTally(models.Model):
    """Codes sent and verified for one number range in one minute: what the pumping brake reads."""

    region = models.CharField(max_length=3, help_text=_("Region of the number range (ISO code), e.g. GB."))
    prefix = models.CharField(
        max_length=15, blank=True, help_text=_("Leading digits of the national number that make the range, e.g. 7700.")
    )
    minute = models.DateTimeField(help_text=_("Start of the minute counted."))
    sent = models.PositiveIntegerField(default=0, help_text=_("Codes sent in that minute."))
    verified = models.PositiveIntegerField(default=0, help_text=_("Codes verified in that minute."))

    class Meta:
        verbose_name = _("pumping tally")
        verbose_name_plural = _("pumping tallies")
        constraints = [
            models.UniqueConstraint(fields=["region", "prefix", "minute"], name="pumping_tally_per_range_minute")
        ]
        indexes = [models.Index(fields=["minute"])]


class BotChallengeTally(models.Model):
    """Sends that needed a bot challenge in one hour, by outcome: what the dashboard shows of the challenge."""

    class Outcome(models.TextChoices):
        PASSED = "passed", _("passed")
        FAILED = "failed", _("failed")
        UNREACHABLE = "unreachable", _("provider unreachable")

    hour = models.DateTimeField(help_text=_("Start of the hour counted."))
    outcome = models.CharField(max_length=16, choices=Outcome.choices, help_text=_("How the challenge ended."))
    count = models.PositiveIntegerField(default=0, help_text=_("Sends with this outcome in that hour."))

    class Meta:
        verbose_name = _("bot challenge tally")
        verbose_name_plural = _("bot challenge tallies")
        constraints = [models.UniqueConstraint(fields=["hour", "outcome"], name="bot_challenge_tally_per_hour_outcome")]


class PumpingPause(models.Model):
    """Sends to one number range stopped because too few of its codes were verified."""

    region = models.CharField(_("region"), max_length=3, help_text=_("Region of the number range (ISO code), e.g. GB."))
    prefix = models.CharField(
        _("prefix"),
        max_length=15,
        blank=True,
        help_text=_("Leading digits of the national number that make the range, e.g. 7700; empty: the whole region."),
    )
    calling_code = models.CharField(
        _("calling code"), max_length=4, help_text=_("Country calling code of the range, without +, e.g. 44.")
    )
    paused_at = models.DateTimeField(_("paused at"), help_text=_("When the brake last tripped."))
    paused_until = models.DateTimeField(
        _("paused until"), help_text=_("No code is sent to this number range before this time.")
    )
    sent = models.PositiveIntegerField(_("sent"), default=0, help_text=_("Codes sent in the window that tripped it."))
    verified = models.PositiveIntegerField(
        _("verified"), default=0, help_text=_("Codes verified in the window that tripped it.")
    )

    class Meta:
        verbose_name = _("pumping pause")
        verbose_name_plural = _("pumping pauses")
        ordering = ["-paused_at"]
        constraints = [models.UniqueConstraint(fields=["region", "prefix"], name="pumping_pause_per_range")]

    def __str__(self) -> str:
        return f"+{self.calling_code} {self.prefix}".rstrip()

    def is_active(self, now: datetime) -> bool:
        """Return whether sends to this number range are paused at `now`."""
        return self.paused_until > now
