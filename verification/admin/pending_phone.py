"""Unconfirmed numbers in the admin: numbers users gave to django-allauth whose code was never typed."""

from __future__ import annotations

from django.contrib import admin

from verification.admin.sign_in_number import UserPhoneAdmin
from verification.models import PendingPhone


@admin.register(PendingPhone)
class PendingPhoneAdmin(UserPhoneAdmin):
    """Written by the allauth adapter; a number here signs nobody in. Staff look, and may delete a row."""

    list_display = ["user", "phone", "given_at"]
    list_filter = ["given_at"]
    fields = readonly_fields = ["user", "phone", "given_at"]
