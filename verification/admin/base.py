"""What every admin page of the app shares: read-only access, and times shown in the site's time zone."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format


class ReadOnlyMixin:
    """Refuse add, change and delete in the admin, whatever the staff member's permissions.

    The services write these rows; staff only look (and act through admin actions).
    """

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def local_time(moment: datetime) -> str:
    """Return a stored UTC time as a short date and time in the site's time zone."""
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
