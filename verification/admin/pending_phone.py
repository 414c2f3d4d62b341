"""Unconfirmed numbers in the admin: numbers users gave to django-allauth whose code was never typed."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from verification.models import PendingPhone


@admin.register(PendingPhone)
class PendingPhoneAdmin(admin.ModelAdmin):
    """Written by the allauth adapter; a number here signs nobody in. Staff look, and may delete a row."""

    list_display = ["user", "phone", "given_at"]
    list_select_related = ["user"]
    list_filter = ["given_at"]
    fields = readonly_fields = ["user", "phone", "given_at"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return ["=phone", f"user__{get_user_model().USERNAME_FIELD}"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
