"""The test host's routes: allauth under accounts/ (its headless API under _allauth/), two-factor-auth's pages,
the app, a page that needs a login."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path
from two_factor.urls import urlpatterns as two_factor_urls


@login_required
def profile(request):
    return HttpResponse(f"signed in as {request.user.pk}")


urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("", include(two_factor_urls)),
    path("profile/", profile, name="profile"),
    path("verify/", include("verification.urls")),
]
