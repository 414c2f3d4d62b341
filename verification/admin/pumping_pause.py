"""Pumping pauses in the admin: which calling codes the brake stopped, and an action that resumes them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from verification.admin.base import local_time
from verification.admin.filters import CurrentlyPausedFilter
from verification.limits import pumping
from verification.models import PumpingPause


@admin.register(PumpingPause)
class PumpingPauseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "pause_status", "paused_at", "sent", "verified"]
    list_filter = [CurrentlyPausedFilter]
    actions = ["resume_now"]
    readonly_fields = ["calling_code", "paused_at", "paused_until", "sent", "verified"]

    @admin.display(description=_("status"))
    def pause_status(self, obj: PumpingPause) -> str:
        if obj.is_active(timezone.now()):
            return _("paused until %(time)s") % {"time": local_time(obj.paused_until)}
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
