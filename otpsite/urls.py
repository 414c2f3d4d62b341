from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from otpsite.health import healthz
from verification.auth.admin_login import AdminLoginView
from verification.metrics import metrics_view


class FaviconView(RedirectView):
    """Send browsers that ask for /favicon.ico to the site's SVG icon."""

    # Temporary: in production the target is a hashed name that changes with the icon.
    permanent = False

    def get_redirect_url(self, *args, **kwargs) -> str:
        # Resolved per request: the hashed name exists only once collectstatic has run.
        return static("verification/favicon.svg")


urlpatterns = [
    # Before the admin: its login goes through the second factor when DJANGO_ADMIN_SECOND_FACTOR is on.
    path("admin/login/", AdminLoginView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", FaviconView.as_view()),
    path("", include("verification.urls")),
]
