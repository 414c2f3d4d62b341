"""The one row the floor's write view adds per request."""

from __future__ import annotations

from django.db import models


class Hit(models.Model):
    """One request to the write view."""

    value = models.CharField(max_length=40, help_text="What the client posted.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the request came in.")
