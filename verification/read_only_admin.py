"""Admin pages staff may look at but never use to add, edit or delete: the services write these rows."""

from __future__ import annotations

from django.http import HttpRequest


class ReadOnlyMixin:
    """Refuse add, change and delete in the admin, whatever the staff member's permissions."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
