"""The app's routes, in the `verification` namespace; a project includes them under any prefix."""

from django.urls import path

from verification import views
from verification.api import views as api
from verification.sms.status_callback import StatusCallbackView

app_name = "verification"

urlpatterns = [
    path("", views.PhoneView.as_view(), name="phone"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("verify/resend/", views.ResendView.as_view(), name="resend"),
    path("verify/status/", views.DeliveryStatusView.as_view(), name="delivery-status"),
    path("locked/", views.LockedView.as_view(), name="locked"),
    path("verified/", views.VerifiedView.as_view(), name="verified"),
    path("sms/status/", StatusCallbackView.as_view(), name="sms-status"),
    # The JSON API: no trailing slash, as its clients write it.
    path("api/v1/send", api.SendView.as_view(), name="api-send"),
    path("api/v1/check", api.CheckView.as_view(), name="api-check"),
]
