"""A read-only admin for inspecting numbers and lifting locks."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from verification import pumping, services
from verification.client_ip import client_ip
from verification.event_admin import history_table
from verification.models import PhoneVerification, PumpingPause
from verification.read_only_admin import ReadOnlyMixin
from verification.sent_message_admin import SentMessageInline


def _local_time(moment) -> str:
    """Return a stored UTC time as a short date and time in the site's time zone."""
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


class CurrentlyLockedFilter(admin.SimpleListFilter):
    title = _("currently locked")
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(locked_until__gt=now)
        if self.value() == "no":
            return queryset.exclude(locked_until__gt=now)
        return queryset


@admin.register(PhoneVerification)
class PhoneVerificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["phone", "status", "failed_attempts", "last_sent_at", "send_count", "verified_at"]
    list_filter = [CurrentlyLockedFilter, "verified_at", "last_sent_at"]
    search_fields = ["phone"]
    ordering = ["-updated_at"]
    actions = ["unlock_numbers"]
    inlines = [SentMessageInline]
    # The hash never leaves the database, not even to staff.
    exclude = ["code_hash"]
    readonly_fields = [
        "phone",
        "status",
        "failed_attempts",
        "locked_until",
        "code_expires_at",
        "next_send_at",
        "last_sent_at",
        "send_count",
        "verified_at",
        "created_at",
        "updated_at",
        "history",
    ]

    @admin.display(description=_("status"))
    def status(self, obj: PhoneVerification) -> str:
        now = timezone.now()
        if obj.is_locked(now):
            return _("locked until %(time)s") % {"time": _local_time(obj.locked_until)}
        if obj.has_live_code(now):
            return _("code live until %(time)s") % {"time": _local_time(obj.code_expires_at)}
        if obj.verified_at:
            return _("verified")
        return _("idle")

    @admin.display(description=_("history"))
    def history(self, obj: PhoneVerification) -> str:
        return history_table(obj.phone)

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        """Let staff who may change verifications unlock them, though the admin shows no edit form."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description=_("Unlock selected numbers"), permissions=["unlock"])
    def unlock_numbers(self, request: HttpRequest, queryset: QuerySet) -> None:
        unlocked = services.unlock(queryset, user=request.user, client_ip=client_ip(request))
        for record in unlocked:
            # Leaves a trace in the record's admin history, naming the staff member.
            self.log_change(request, record, "Unlocked the number.")
        self.message_user(
            request,
            ngettext("Unlocked %(n)d number.", "Unlocked %(n)d numbers.", len(unlocked)) % {"n": len(unlocked)},
            messages.SUCCESS if unlocked else messages.WARNING,
        )


class ActivePauseFilter(admin.SimpleListFilter):
    title = _("currently paused")
    parameter_name = "paused"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(paused_until__gt=now)
        if self.value() == "no":
            return queryset.exclude(paused_until__gt=now)
        return queryset


@admin.register(PumpingPause)
class PumpingPauseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "pause_status", "paused_at", "sent", "verified"]
    list_filter = [ActivePauseFilter]
    actions = ["resume_now"]
    readonly_fields = ["calling_code", "paused_at", "paused_until", "sent", "verified"]

    @admin.display(description=_("status"))
    def pause_status(self, obj: PumpingPause) -> str:
        if obj.is_active():
            return _("paused until %(time)s") % {"time": _local_time(obj.paused_until)}
        return _("sending")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_resume_permission(self, request: HttpRequest) -> bool:
        """Let staff who may change pauses lift them, though the admin shows no edit form."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description=_("Resume now"), permissions=["resume"])
    def resume_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        resumed = pumping.resume(queryset, timezone.now())
        for pause in resumed:
            self.log_change(request, pause, "Resumed sends.")
        self.message_user(
            request,
            ngettext("Resumed sends to %(n)d calling code.", "Resumed sends to %(n)d calling codes.", len(resumed))
            % {"n": len(resumed)},
            messages.SUCCESS if resumed else messages.WARNING,
        )
