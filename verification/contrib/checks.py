"""System checks for the integrations: a project that names the adapter or the gateway gets told what is missing.

Nothing here imports django-allauth or django-two-factor-auth unless the project names the integration and the
library is installed.
"""

from __future__ import annotations

from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string

from verification.conf import app_settings, library_setting

ADAPTER = "verification.contrib.allauth.AccountAdapter"
REQUEST_MIDDLEWARE = "verification.contrib.relay.RequestMiddleware"
GATEWAY = "verification.contrib.two_factor.Gateway"


def configured_gateways() -> set[str]:
    """Return the gateways the project names for two-factor-auth's texts and calls."""
    return {library_setting(name) for name in ("TWO_FACTOR_SMS_GATEWAY", "TWO_FACTOR_CALL_GATEWAY")} - {None}


def _installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def uses_adapter() -> bool:
    """Return whether ACCOUNT_ADAPTER is the app's adapter or (when allauth can be imported) a subclass of it."""
    name = library_setting("ACCOUNT_ADAPTER")
    if not isinstance(name, str):
        return False
    if name == ADAPTER:
        return True
    if not name.startswith("verification.") and _installed("allauth") and apps.is_installed("allauth.account"):
        from verification.contrib.allauth import AccountAdapter

        try:
            return issubclass(import_string(name), AccountAdapter)
        except ImportError:
            return False
    return False


@register()
def check_allauth(app_configs=None, **kwargs) -> list[Error | Warning]:
    """Report what the allauth integration needs and the project lacks."""
    if library_setting("ACCOUNT_ADAPTER") != ADAPTER and not uses_adapter():
        return []
    if not _installed("allauth"):
        return [
            Error(
                f"ACCOUNT_ADAPTER names {ADAPTER}, but django-allauth is not installed.",
                hint='pip install "django-phone-otp-verification[allauth]"',
                id="verification.E250",
            )
        ]
    errors = []
    if not apps.is_installed("allauth.account"):
        errors.append(
            Error(
                f"ACCOUNT_ADAPTER names {ADAPTER}, but allauth.account is not in INSTALLED_APPS.",
                hint='Add "allauth" and "allauth.account" to INSTALLED_APPS.',
                id="verification.E251",
            )
        )
    if "allauth.account.middleware.AccountMiddleware" not in settings.MIDDLEWARE:
        errors.append(
            Error(
                "The allauth adapter answers a refused send through allauth's AccountMiddleware, which is not in "
                "MIDDLEWARE.",
                hint='Add "allauth.account.middleware.AccountMiddleware" to MIDDLEWARE.',
                id="verification.E252",
            )
        )
    if apps.is_installed("allauth.account"):
        from allauth.account import app_settings as account_settings

        if account_settings.RATE_LIMITS.get("verify_phone"):
            # allauth (65.x) raises this limit from inside its sign-up, which catches only ImmediateHttpResponse.
            errors.append(
                Warning(
                    "django-allauth's own verify_phone rate limit is on: a second sign-up with one number within "
                    "its window answers 500 (allauth raises RateLimited inside sign-up and nothing catches it). The "
                    "app's per-number limits and resend cooldown already govern these texts.",
                    hint='Set ACCOUNT_RATE_LIMITS = {"verify_phone": None} (allauth\'s other limits stay on).',
                    id="verification.W259",
                )
            )
    return errors


@register()
def check_two_factor(app_configs=None, **kwargs) -> list[Error | Warning]:
    """Report what the two-factor gateway needs and the project lacks."""
    if GATEWAY not in configured_gateways():
        return []
    if not _installed("two_factor"):
        return [
            Error(
                f"A TWO_FACTOR_*_GATEWAY setting names {GATEWAY}, but django-two-factor-auth is not installed.",
                hint='pip install "django-phone-otp-verification[two-factor]"',
                id="verification.E253",
            )
        ]
    errors: list[Error | Warning] = []
    if not apps.is_installed("two_factor.plugins.phonenumber"):
        errors.append(
            Error(
                f"{GATEWAY} delivers tokens to phone devices, but two_factor.plugins.phonenumber is not in "
                "INSTALLED_APPS.",
                hint='Add "two_factor.plugins.phonenumber" to INSTALLED_APPS.',
                id="verification.E254",
            )
        )
    if REQUEST_MIDDLEWARE not in settings.MIDDLEWARE:
        errors.append(
            Warning(
                f"{GATEWAY} cannot tell whom to count in the per-IP and per-session send limits without "
                f"{REQUEST_MIDDLEWARE}; only the per-number limits, the budget and the pumping brake apply.",
                hint=f'Add "{REQUEST_MIDDLEWARE}" to MIDDLEWARE, after SessionMiddleware.',
                id="verification.W255",
            )
        )
    if library_setting("TWO_FACTOR_CALL_GATEWAY") == GATEWAY and "call" not in app_settings.delivery_methods:
        # Relayed calls follow the rules of our own (destinations.check_via); E060 says when no backend can call.
        errors.append(
            Warning(
                f"TWO_FACTOR_CALL_GATEWAY names {GATEWAY}, but OTP_DELIVERY_METHODS does not list 'call': every "
                "call is refused and two-factor-auth shows its delivery warning.",
                hint="Add call to OTP_DELIVERY_METHODS (with a backend that calls, such as twilio), or leave "
                "TWO_FACTOR_CALL_GATEWAY unset so two-factor-auth offers text messages only.",
                id="verification.W256",
            )
        )
    return errors


def _effective_chains() -> dict[str, tuple[str, ...]]:
    """Return each chain a number can get, by what picks it: a region of SMS_ROUTES, "*", or "default"."""
    from verification.sms import routes

    chains = {region: tuple(dict.fromkeys(route)) for region, route in app_settings.sms_routes.items() if route}
    if "*" not in chains:
        chains["default"] = routes.default_chain()
    return chains


@register()
def check_relay_backends(app_configs=None, **kwargs) -> list[Error | Warning]:
    """Report chains in which every backend makes its own code: a library's code could never be delivered."""
    if not uses_adapter() and GATEWAY not in configured_gateways():
        return []
    from verification.sms.chain import makes_code

    blocked = []
    for name, backends in _effective_chains().items():
        try:
            if all(makes_code(backend) for backend in backends):
                blocked.append(name)
        except ImportError:
            return []  # a backend that cannot load is reported by the delivery checks
    if not blocked:
        return []
    hint = (
        "Add a backend that sends the text as written (twilio, vonage, hook) to SMS_FALLBACK_BACKENDS, or to "
        "the SMS_ROUTES entries named; the app's own pages keep using Twilio Verify first."
    )
    if len(blocked) == len(_effective_chains()):
        return [
            Error(
                "django-allauth and django-two-factor-auth make their own codes, but every SMS backend this project "
                "names makes its own code too (checks_codes: Twilio Verify) and would deliver that one instead: "
                "every code they ask the app to send fails.",
                hint=hint,
                id="verification.E257",
            )
        ]
    return [
        Warning(
            "For these routes every SMS backend makes its own code (checks_codes: Twilio Verify), so a code "
            f"django-allauth or django-two-factor-auth made cannot be sent there: {', '.join(sorted(blocked))}.",
            hint=hint,
            id="verification.W258",
        )
    ]
