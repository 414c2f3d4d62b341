"""Numbers verified by logged-in users, in the admin: read-only, found by number or by account."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from verification.admin.base import ReadOnlyMixin
from verification.models import VerifiedPhone


@admin.register(VerifiedPhone)
class VerifiedPhoneAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Written by the flow when a logged-in user verifies a number; staff only look."""

    list_display = ["phone", "user", "verified_at"]
    list_filter = ["verified_at"]
    list_select_related = ["user"]
    date_hierarchy = "verified_at"
    fields = readonly_fields = ["user", "phone", "verified_at"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The user model may be the host's own, with its own login field.
        return ["=phone", f"user__{get_user_model().USERNAME_FIELD}"]
