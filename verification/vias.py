"""How a code travels (its "via"): a text message, a voice call or a WhatsApp message.

"Channel" already means pages or JSON API (VerificationEvent.Channel); the way a code reaches the phone is its via.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Via(models.TextChoices):
    SMS = "sms", _("text message")
    CALL = "call", _("voice call")
    WHATSAPP = "whatsapp", _("WhatsApp")


#: Every way, in the order the settings name them.
ALL = tuple(Via.values)
