"""Pumping pauses in the admin: the number ranges the brake stopped, with its figures, and a "Resume now" action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from verification.admin.base import ReadOnlyMixin, local_time
from verification.admin.filters import CurrentlyPausedFilter
from verification.limits import pumping
from verification.models import PumpingPause


@admin.register(PumpingPause)
class PumpingPauseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Read-only, with no delete either: a deleted pause would take its figures with it, "Resume now" leaves a trace."""

    list_display = ["number_range", "region", "pause_status", "paused_at", "sent", "verified", "verified_share"]
    list_filter = [CurrentlyPausedFilter, "region"]
    actions = ["resume_now"]
    readonly_fields = ["region", "calling_code", "prefix", "paused_at", "paused_until", "sent", "verified"]

    @admin.display(description=_("number range"), ordering="prefix")
    def number_range(self, obj: PumpingPause) -> str:
        return str(obj)

    @admin.display(description=_("verified share"))
    def verified_share(self, obj: PumpingPause) -> str:
        return f"{obj.verified / obj.sent:.1%}" if obj.sent else "-"

    @admin.display(description=_("status"))
    def pause_status(self, obj: PumpingPause) -> str:
        if obj.is_active(timezone.now()):
            return _("paused until %(time)s") % {"time": local_time(obj.paused_until)}
        return _("sending")

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
            ngettext("Resumed sends to %(n)d number range.", "Resumed sends to %(n)d number ranges.", len(resumed))
            % {"n": len(resumed)},
            messages.SUCCESS if resumed else messages.WARNING,
        )
