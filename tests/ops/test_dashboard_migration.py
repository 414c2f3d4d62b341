"""Migration 0009 gives the events stored before it the region and number range the dashboard groups by."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from tests.helpers import PHONE, T0
from verification import audit
from verification.models import VerificationEvent

pytestmark = pytest.mark.django_db

migration = importlib.import_module("verification.migrations.0009_dashboard")


def test_older_events_get_their_region_and_range():
    for phone in (PHONE, PHONE, "+14155552671", "+80012345678"):
        audit.record(audit.Kind.SENT, phone, now=T0)
    audit.record(audit.Kind.RATE_LIMITED, None, now=T0)
    VerificationEvent.objects.update(region="", number_range="")
    migration.fill_region_and_range(apps, None)
    assert list(VerificationEvent.objects.order_by("id").values_list("region", "number_range")) == [
        ("FR", "+33 6123"),
        ("FR", "+33 6123"),
        ("US", "+1 4155"),
        ("", "+800 1234"),
        ("", ""),
    ]
