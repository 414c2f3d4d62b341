"""The SMS log in admin: every message sent, with its delivery receipt; read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from verification.admin.base import ReadOnlyMixin
from verification.models import SentMessage
from verification.phone_numbers import mask

MESSAGE_FIELDS = ["sid", "provider", "status", "error_code", "sent_at", "status_at", "failed_over"]


class SentMessageInline(ReadOnlyMixin, admin.TabularInline):
    """The messages sent to one number, on that number's page."""

    model = SentMessage
    fields = readonly_fields = MESSAGE_FIELDS
    ordering = ["-sent_at", "-id"]
    extra = 0
    verbose_name_plural = _("SMS sent to this number")


@admin.register(SentMessage)
class SentMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["masked_number", *MESSAGE_FIELDS]
    list_filter = ["provider", "status", "failed_over", "sent_at"]
    list_select_related = ["verification"]
    # Exact matches only: staff look a message up by the sid Twilio shows or by a full number.
    search_fields = ["=sid", "=verification__phone"]
    ordering = ["-sent_at", "-id"]
    fields = readonly_fields = ["verification", *MESSAGE_FIELDS]

    @admin.display(description=_("number"), ordering="verification__phone")
    def masked_number(self, obj: SentMessage) -> str:
        return mask(obj.verification.phone)
