"""The admin's login through the second factor: imported only by projects that route it (it imports the admin)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from verification.auth.views import LoginView
from verification.conf import app_settings


@method_decorator(never_cache, name="dispatch")
class AdminLoginView(LoginView):
    """The admin's login page: the password, then a code, when OTP_ADMIN_SECOND_FACTOR is on; else the admin's own.

    Staff without a sign-in number verify one after the password, and it becomes theirs.

    Route it before the admin: path("admin/login/", AdminLoginView.as_view()), path("admin/", admin.site.urls).
    """

    authentication_form = AdminAuthenticationForm
    # The admin's keys are worth a phone: staff without a sign-in number add one before they get in.
    number_required = True
    template_name = "admin/login.html"
    site = admin.site

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not app_settings.admin_second_factor:
            return self.site.login(request)
        if request.method == "GET" and self.site.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.site.name))
        request.current_app = self.site.name
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs) -> dict:
        context = {
            **self.site.each_context(self.request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": self.request.get_full_path(),
            "username": self.request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in self.request.GET and REDIRECT_FIELD_NAME not in self.request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.site.name)
        return super().get_context_data(**{**context, **kwargs})

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index", current_app=self.site.name)
