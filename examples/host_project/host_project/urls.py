"""URLs of the host project: its own pages, login, the admin, and the app (line 2 of three)."""

from django.contrib import admin
from django.urls import include, path
from shop import views

from verification.auth.views import LoginView

urlpatterns = [
    path("", views.home, name="home"),
    path("orders/", views.orders, name="orders"),
    # The login: Django's, with a code to the account's sign-in number after the password (before auth.urls).
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("phone/", include("verification.urls")),  # 2. the app, under any prefix
]
