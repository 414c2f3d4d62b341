"""A host project on django-allauth (phone sign-up and login by code) and django-two-factor-auth, with the app's
integrations: the suite's settings plus those libraries, as their documentation and our README say to add them.

These tests run in a pytest process of their own (tests/ops/test_integrations.py starts it), so the main suite's
settings stay those of the standalone site.
"""

from pathlib import Path

from tests.settings import *  # noqa: F403
from tests.settings import BASE_DIR, DATABASES, INSTALLED_APPS, MIDDLEWARE, TEMPLATES

HERE = Path(__file__).resolve().parent

# A plain host: no django-axes (the standalone site's choice), the libraries' apps and middleware instead.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "axes"] + [
    "allauth",
    "allauth.account",
    "allauth.headless",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "two_factor.plugins.phonenumber",
]
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith(("axes.", "whitenoise."))]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "verification.contrib.relay.RequestMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.append("allauth.account.middleware.AccountMiddleware")
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ROOT_URLCONF = "tests.integrations.urls"
# A test database of its own: the main suite's run that started this one still has its own open.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_integrations.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_integrations"}
TEMPLATES = [{**TEMPLATES[0], "DIRS": [HERE / "templates", *TEMPLATES[0]["DIRS"]]}]

# django-allauth: phone sign-up and login by code, the adapter of verification.contrib.allauth.
ACCOUNT_ADAPTER = "verification.contrib.allauth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*"]
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True
# Headless asks for a login code at auth/code/request, which allauth routes only with login by code on.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
# allauth's own limits (per cache, not race-safe) are off, so the app's limits alone decide what is sent.
ACCOUNT_RATE_LIMITS = False
LOGIN_REDIRECT_URL = "/profile/"

# django-two-factor-auth: texts and calls through verification.contrib.two_factor.
TWO_FACTOR_SMS_GATEWAY = "verification.contrib.two_factor.Gateway"
TWO_FACTOR_CALL_GATEWAY = "verification.contrib.two_factor.Gateway"
PHONENUMBER_DEFAULT_REGION = "FR"
