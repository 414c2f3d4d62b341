"""Numbers in the admin: read-only, with their status, history and SMS, and an action that lifts locks."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from verification import services
from verification.admin.base import ReadOnlyMixin, local_time
from verification.admin.filters import CurrentlyLockedFilter
from verification.admin.sent_message import SentMessageInline
from verification.admin.verification_event import history_table
from verification.client_ip import client_ip
from verification.models import PhoneVerification


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
            return _("locked until %(time)s") % {"time": local_time(obj.locked_until)}
        if obj.has_live_code(now):
            return _("code live until %(time)s") % {"time": local_time(obj.code_expires_at)}
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
        unlocked = services.unlock(queryset, timezone.now(), user=request.user, client_ip=client_ip(request))
        for record in unlocked:
            # Leaves a trace in the record's admin history, naming the staff member.
            self.log_change(request, record, "Unlocked the number.")
        self.message_user(
            request,
            ngettext("Unlocked %(n)d number.", "Unlocked %(n)d numbers.", len(unlocked)) % {"n": len(unlocked)},
            messages.SUCCESS if unlocked else messages.WARNING,
        )
