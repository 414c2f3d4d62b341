"""List filters of the app's admin pages, one per concept."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InForceFilter(admin.SimpleListFilter):
    """Filter rows by whether something lasting until `until_field` is in force now."""

    until_field = ""

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        in_force = {f"{self.until_field}__gt": timezone.now()}
        if self.value() == "yes":
            return queryset.filter(**in_force)
        if self.value() == "no":
            return queryset.exclude(**in_force)
        return queryset


class CurrentlyLockedFilter(InForceFilter):
    title = _("currently locked")
    parameter_name = "locked"
    until_field = "locked_until"


class CurrentlyPausedFilter(InForceFilter):
    title = _("currently paused")
    parameter_name = "paused"
    until_field = "paused_until"
