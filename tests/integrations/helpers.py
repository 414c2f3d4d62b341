"""What the integration tests share: wizard steps of django-two-factor-auth, a paused number range, the clock."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

from tests.helpers import T0
from verification.models import PumpingPause
from verification.phone_numbers import range_of

#: Two numbers of one French range, one of another range.
PHONE, SAME_RANGE, OTHER_RANGE = "+33612345678", "+33612345679", "+33698765432"
PASSWORD = "a long enough password 1"


def wizard(client: Client, url: str, view: str, step: str, **fields: str):
    """POST one step of a django-formtools wizard (two-factor-auth's setup and login) the way its pages do."""
    data = {f"{view}-current_step": step, **{f"{step}-{name}": value for name, value in fields.items()}}
    return client.post(url, data)


def pause_range(phone: str, until_hours: float = 1) -> PumpingPause:
    """Pause the pumping brake's range of `phone` from T0, as a tripped brake (or staff) would."""
    number_range = range_of(phone)
    return PumpingPause.objects.create(
        **number_range.rows(),
        calling_code=str(number_range.calling_code),
        paused_at=T0,
        paused_until=T0 + timedelta(hours=until_hours),
    )
