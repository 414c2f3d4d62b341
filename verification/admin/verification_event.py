"""The audit trail in the admin: a read-only event list, and a number's history for its own page."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from verification.admin.base import ReadOnlyMixin
from verification.models import VerificationEvent
from verification.phone_numbers import mask

#: Events shown on a number's page; the event list has the rest.
HISTORY_LENGTH = 50


@admin.register(VerificationEvent)
class VerificationEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The audit trail; read-only, so staff cannot trim it (purge_verifications alone deletes events)."""

    list_display = [
        "created_at",
        "kind",
        "masked_phone",
        "client_ip",
        "channel",
        "flow",
        "provider",
        "is_test",
        "user",
        "limit",
        "count",
    ]
    list_filter = ["kind", "channel", "flow", "provider", "is_test", "limit", "created_at"]
    date_hierarchy = "created_at"
    # Staff who know a number can find its events; the list itself shows it masked.
    search_fields = ["=phone"]
    list_select_related = ["user"]
    fields = readonly_fields = [
        "created_at",
        "kind",
        "phone",
        "client_ip",
        "channel",
        "is_test",
        "user",
        "limit",
        "key",
        "count",
    ]

    @admin.display(description=_("phone number"), ordering="phone")
    def masked_phone(self, obj: VerificationEvent) -> str:
        return mask(obj.phone) if obj.phone else "-"


def history_table(phone: str) -> SafeString:
    """Return the latest events of `phone` as an HTML table, with a link to all of them."""
    events = VerificationEvent.objects.filter(phone=phone).select_related("user")[:HISTORY_LENGTH]
    if not events:
        return format_html("<p>{}</p>", _("No events."))
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                display_for_value(event.created_at, "-"),
                event.get_kind_display(),
                event.client_ip or "-",
                event.user.get_username() if event.user else "-",
                event.get_channel_display() or "-",
            )
            for event in events
        ),
    )
    changelist = reverse("admin:verification_verificationevent_changelist")
    return format_html(
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
        '<p><a href="{}?{}">{}</a></p>',
        _("time"),
        _("event"),
        _("client IP"),
        _("staff user"),
        _("channel"),
        rows,
        changelist,
        urlencode({"q": phone}),
        _("All events of this number"),
    )
