"""The app's routes, in the `verification` namespace; a project includes them under any prefix."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from verification import views
from verification.api import views as api
from verification.auth import views as auth
from verification.sms.status_callback import StatusCallbackView
from verification.sms.vonage_status import VonageStatusView

app_name = "verification"

urlpatterns = [
    path("", views.PhoneView.as_view(), name="phone"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("verify/resend/", views.ResendView.as_view(), name="resend"),
    path("verify/status/", views.DeliveryStatusView.as_view(), name="delivery-status"),
    path("locked/", views.LockedView.as_view(), name="locked"),
    path("verified/", views.VerifiedView.as_view(), name="verified"),
    # Passwordless sign-in.
    path("sign-in/", auth.SignInView.as_view(), name="sign-in"),
    path("sign-in/verify/", auth.SignInVerifyView.as_view(), name="sign-in-verify"),
    path("sign-in/resend/", auth.SignInResendView.as_view(), name="sign-in-resend"),
    path("sign-in/locked/", auth.SignInLockedView.as_view(), name="sign-in-locked"),
    path("sign-in/status/", auth.SignInStatusView.as_view(), name="sign-in-status"),
    # A login with the password, then the second factor.
    path("login/", auth.LoginView.as_view(template_name="verification/login.html"), name="login"),
    path("login/confirm/", auth.SecondFactorView.as_view(), name="second-factor"),
    path("login/confirm/code/", auth.SecondFactorVerifyView.as_view(), name="second-factor-verify"),
    path("login/confirm/resend/", auth.SecondFactorResendView.as_view(), name="second-factor-resend"),
    path("login/confirm/locked/", auth.SecondFactorLockedView.as_view(), name="second-factor-locked"),
    path("login/confirm/status/", auth.SecondFactorStatusView.as_view(), name="second-factor-status"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("signed-in/", auth.SignedInView.as_view(), name="signed-in"),
    path("sms/status/", StatusCallbackView.as_view(), name="sms-status"),
    path("sms/vonage/status/", VonageStatusView.as_view(), name="vonage-status"),
    # The JSON API: no trailing slash, as its clients write it.
    path("api/v1/send", api.SendView.as_view(), name="api-send"),
    path("api/v1/check", api.CheckView.as_view(), name="api-check"),
]
