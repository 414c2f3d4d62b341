"""The second factor's code form: the code, and where it is on, whether to remember this browser."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from verification.conf import app_settings
from verification.forms import CodeForm


class SecondFactorCodeForm(CodeForm):
    remember = forms.BooleanField(label=_("Remember this browser"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        days = app_settings.remember_browser_days
        if days <= 0:
            del self.fields["remember"]
        else:
            self.fields["remember"].label = _("Don't ask for a code on this browser for %(days)d days") % {"days": days}
