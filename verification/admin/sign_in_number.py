"""Sign-in numbers in the admin: each user's number, found by number or by account; staff may remove one."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from verification.models import SignInNumber


class UserPhoneAdmin(admin.ModelAdmin):
    """A number of a user's that the app writes: staff find it by number or account, look, and may delete it."""

    list_select_related = ["user"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The user model may be the host's own, with its own login field.
        return ["=phone", f"user__{get_user_model().USERNAME_FIELD}"]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Read-only fields: the change page only shows the row and its delete link.
        return False


@admin.register(SignInNumber)
class SignInNumberAdmin(UserPhoneAdmin):
    """Written when a user verifies a number; staff look, and remove a number (a lost phone) with delete."""

    list_display = ["user", "phone", "set_at"]
    list_filter = ["set_at"]
    fields = readonly_fields = ["user", "phone", "set_at"]
