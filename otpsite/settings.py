"""Project settings, read once from the environment (and `.env`, if present)."""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# DJANGO_ENV_FILE names another file (or /dev/null, as the tests do) instead of the checkout's .env.
environ.Env.read_env(os.environ.get("DJANGO_ENV_FILE", BASE_DIR / ".env"))

# Off unless asked for: a forgotten variable must never turn a production site into a debug one.
DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _secret_key() -> str:
    """Return DJANGO_SECRET_KEY, or in development a generated key kept in a git-ignored file."""
    key = env.str("DJANGO_SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production (DJANGO_DEBUG=false) needs a long random "
            "secret key; generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    key_file = BASE_DIR / ".django_secret_key"
    if not key_file.exists():
        # Write aside, then link into place: link() never overwrites, so gunicorn workers
        # starting together all read the one key that won, and never a half-written file.
        with tempfile.NamedTemporaryFile("w", dir=BASE_DIR, prefix=".django_secret_key.") as tmp:
            tmp.write(secrets.token_urlsafe(50))
            tmp.flush()
            os.chmod(tmp.name, 0o600)
            try:
                os.link(tmp.name, key_file)
            except FileExistsError:
                pass
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "verification",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the bot challenge's origins while it is on.
    "otpsite.csp.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "otpsite.urls"
WSGI_APPLICATION = "otpsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers queue instead of failing with
    # "database is locked" on lock upgrade. The app's engine makes the threads of a worker wait for it in arrival
    # order and the workers take turns (no busy-handler sleeps, so no tail of seconds).
    DATABASES["default"]["ENGINE"] = "verification.db.sqlite3"
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory, so threaded race tests see real SQLite locking.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test.sqlite3")}
# Each worker thread keeps its connection between requests and checks it is alive before reusing it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Redis (CACHE_URL=redis://host:6379/0) shares the cache across workers and hosts; the default is per process.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Without timeouts, an unreachable Redis hangs requests (and /healthz) instead of failing them;
    # timeouts given in CACHE_URL (?socket_timeout=1) win.
    _redis_options = CACHES["default"].setdefault("OPTIONS", {})
    _redis_options.setdefault("socket_connect_timeout", 2)
    _redis_options.setdefault("socket_timeout", 2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# /healthz answers 503 when SQLite's write lock stays taken this long: below a load balancer's usual 5 s probe
# timeout, far above the milliseconds a send holds it, and well before sends queueing for it (timeout 20 s) fail.
HEALTHZ_WRITE_LOCK_SECONDS = env.float("DJANGO_HEALTHZ_WRITE_LOCK_SECONDS", default=3.0)

# Admin logins are throttled by django-axes (the site's choice; the app does not need it): after
# DJANGO_ADMIN_LOGIN_FAILURE_LIMIT failures for one username, or from one client address, logins are refused
# for DJANGO_ADMIN_LOGIN_COOLOFF_MINUTES, even with the right password. Failures are rows in the admin
# ("Access attempts") and warnings on the `axes` logger, with no digits of the username.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("DJANGO_ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
# Each alone, not the pair: rotating addresses does not reset a username's count, nor rotating usernames an address's.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# The client address as the app sees it, behind OTP_TRUSTED_PROXY_COUNT proxies.
AXES_CLIENT_IP_CALLABLE = "verification.client_ip.client_ip"
AXES_CLIENT_STR_CALLABLE = "otpsite.admin_login.describe_attempt"
AXES_LOCKOUT_CALLABLE = "otpsite.admin_login.lockout_response"

# Logins: the app's pages (password, then a code to the account's sign-in number; or by phone alone).
LOGIN_URL = "verification:login"
LOGIN_REDIRECT_URL = "verification:signed-in"
# The admin's login through the second factor too (verification.auth.admin_login); production turns it on.
OTP_ADMIN_SECOND_FACTOR = env.bool("DJANGO_ADMIN_SECOND_FACTOR", default=False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
# Languages of the pages and the SMS: from Accept-Language, or the switcher's cookie.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pt-br", "Português (Brasil)"),
]
# The app's catalog is listed too: as an app after django.contrib.admin, it would lose every message id
# that the admin also translates ("Page not found").
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "verification" / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=60 * 60)
# Forms carry the token in a hidden field; no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True

# Production security: HTTPS only, behind a TLS proxy (see README, "Production").
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # Safe only because the proxy overwrites X-Forwarded-Proto: a client-sent value must never reach Django.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Off only for a proxy that redirects HTTP to HTTPS itself.
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # Lowered only while rolling HTTPS out; browsers remember the value for that long.
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Content-Security-Policy (django-csp): our own scripts, styles and images only, nothing inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        # The code page's script asks its own delivery status route (verify/status/).
        "connect-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
    }
}

# Logging: one line per event on stderr; LOG_FORMAT=json writes one JSON object per line for log shippers.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "otpsite.json_log_formatter.JsonLinesFormatter"},
    },
    "filters": {"one_line_warning": {"()": "otpsite.log_filters.OneLineWarning"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
        "client_errors": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["one_line_warning"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # Suspicious requests (oversized, too many fields, bad Host) are the client's doing: one warning line each.
        "django.security": {"handlers": ["client_errors"], "level": "WARNING", "propagate": False},
        "verification": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO"), "propagate": False},
        # Failed admin logins and lockouts are warnings; axes' own chatter is info.
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# The app's settings (verification/conf.py holds every default; the README's table lists them):
# each is set here only when its environment variable is, so an unset variable means the app's default.
_APP_SETTINGS = {
    "OTP_LENGTH": env.int,
    "OTP_TTL_SECONDS": env.int,
    "OTP_MAX_ATTEMPTS": env.int,
    "OTP_LOCKOUT_SECONDS": env.int,
    "OTP_RESEND_COOLDOWN_SECONDS": env.int,
    "OTP_DEFAULT_REGION": env.str,
    "OTP_TRUSTED_PROXY_COUNT": env.int,
    "OTP_IPV6_PREFIX_LENGTH": env.int,
    "OTP_EVENT_RETENTION_DAYS": env.int,
    "OTP_TOKEN_MAX_AGE": env.int,
    "OTP_VERIFIED_REDIRECT_URL": env.str,
    "OTP_ALLOWED_REDIRECT_HOSTS": env.list,
    "OTP_METRICS_TOKEN": env.str,
    "OTP_SEND_LIMITS_PER_NUMBER": env.str,
    "OTP_SEND_LIMITS_PER_IP": env.str,
    "OTP_SEND_LIMITS_PER_SESSION": env.str,
    "OTP_SEND_BUDGET": env.str,
    "OTP_ALLOWED_COUNTRIES": env.list,
    "OTP_ALLOW_VOIP": env.bool,
    "OTP_DELIVERY_METHODS": env.list,
    "OTP_CALL_ALLOWED_COUNTRIES": env.list,
    "OTP_AUTO_FALLBACK": env.bool,
    "OTP_PUMPING_WINDOW": env.str,
    "OTP_PUMPING_MIN_SENDS": env.int,
    "OTP_PUMPING_MIN_CONVERSION": env.float,
    "OTP_PUMPING_PAUSE": env.str,
    "OTP_PUMPING_PREFIX_DIGITS": env.int,
    "OTP_OUTAGE_FAILURES": env.int,
    "OTP_OUTAGE_PROBE_INTERVAL": env.str,
    "OTP_BOT_CHALLENGE": env.str,
    "OTP_BOT_CHALLENGE_SITE_KEY": env.str,
    "OTP_BOT_CHALLENGE_SECRET": env.str,
    "OTP_BOT_CHALLENGE_VERIFY_URL": env.str,
    "OTP_BOT_CHALLENGE_SCRIPT_URL": env.str,
    "OTP_BOT_CHALLENGE_TIMEOUT_SECONDS": env.float,
    "OTP_BOT_CHALLENGE_WHEN": env.str,
    "OTP_BOT_CHALLENGE_HOSTNAMES": env.list,
    # Written "+15555550100=123456,+15555550101=654321"; verification/conf.py reads it.
    "OTP_TEST_NUMBERS": env.str,
    "OTP_TEST_NUMBERS_VALID_UNTIL": env.str,
    "OTP_SMS_TEMPLATE": env.str,
    "OTP_APP_NAME": env.str,
    "OTP_WEBOTP_DOMAIN": env.str,
    "OTP_ADAPTER": env.str,
    "OTP_SIGN_UP": env.bool,
    # DJANGO_ADMIN_SECOND_FACTOR sets it above; the app's own name wins where both are set.
    "OTP_ADMIN_SECOND_FACTOR": env.bool,
    "OTP_SECOND_FACTOR_REQUIRED": env.bool,
    "OTP_REMEMBER_BROWSER_DAYS": env.int,
    "SMS_BACKEND": env.str,
    "SMS_FILE_PATH": env.str,
    # Short names (twilio, twilio_verify, vonage, hook, console) or dotted paths, comma-separated.
    "SMS_FALLBACK_BACKENDS": env.str,
    # REGION=backend,backend; REGION=…; *=backend (the app parses the text).
    "SMS_ROUTES": env.str,
    "SMS_SEND_DEADLINE_SECONDS": env.float,
    "TWILIO_VERIFY_SERVICE_SID": env.str,
    "TWILIO_VERIFY_BASE_URL": env.str,
    "VONAGE_API_KEY": env.str,
    "VONAGE_API_SECRET": env.str,
    "VONAGE_FROM": env.str,
    "VONAGE_TIMEOUT_SECONDS": env.float,
    "VONAGE_API_BASE_URL": env.str,
    "VONAGE_SIGNATURE_SECRET": env.str,
    "VONAGE_SIGNATURE_METHOD": env.str,
    "VONAGE_STATUS_CALLBACK_URL": env.str,
    "SMS_HOOK_URL": env.str,
    "SMS_HOOK_SECRET": env.str,
    "SMS_HOOK_TIMEOUT_SECONDS": env.float,
    "TWILIO_ACCOUNT_SID": env.str,
    "TWILIO_AUTH_TOKEN": env.str,
    "TWILIO_FROM_NUMBER": env.str,
    "TWILIO_MESSAGING_SERVICE_SID": env.str,
    "TWILIO_TIMEOUT_SECONDS": env.float,
    "TWILIO_API_BASE_URL": env.str,
    "TWILIO_STATUS_CALLBACK_URL": env.str,
    "TWILIO_CALL_FROM": env.str,
    "TWILIO_WHATSAPP_FROM": env.str,
    "TWILIO_WHATSAPP_CONTENT_SID": env.str,
}
globals().update({name: read(name) for name, read in _APP_SETTINGS.items() if name in os.environ})
# The standalone site offers every way a code can travel unless told otherwise (the app's own default is sms);
# through Twilio, WhatsApp only once its approved template is named, as it cannot send a code without one.
OTP_DELIVERY_METHODS = env.list(
    "OTP_DELIVERY_METHODS",
    default=["sms", "call"]
    + (["whatsapp"] if env.str("TWILIO_WHATSAPP_CONTENT_SID", "") or not env.str("TWILIO_ACCOUNT_SID", "") else []),
)
