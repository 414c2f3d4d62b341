"""Which SMS backends carry a message to a number, in order: its region's route, else SMS_BACKEND and its fallbacks."""

from __future__ import annotations

import phonenumbers

from verification.conf import app_settings


def region_of(phone: str) -> str | None:
    """Return the ISO region of an E.164 number, or None if it has none."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return None


def default_chain() -> tuple[str, ...]:
    """Return SMS_BACKEND then SMS_FALLBACK_BACKENDS, each once, as dotted paths."""
    return tuple(dict.fromkeys((app_settings.sms_backend, *app_settings.sms_fallback_backends)))


def backends_for(phone: str) -> tuple[str, ...]:
    """Return the dotted paths of the backends to try for `phone`, in order.

    SMS_ROUTES replaces the chain for the regions it names; its "*" entry, if any, replaces it for the rest.
    """
    routes = app_settings.sms_routes
    if routes:
        route = routes.get(region_of(phone) or "") or routes.get("*")
        if route:
            return tuple(dict.fromkeys(route))
    return default_chain()


def every_backend() -> tuple[str, ...]:
    """Return every backend the settings name (chain and routes), each once, in order of first mention."""
    named = list(default_chain())
    for route in app_settings.sms_routes.values():
        named.extend(route)
    return tuple(dict.fromkeys(named))


def delivers(klass: type, via: str) -> bool:
    """Return whether backend class `klass` can deliver a message that travels by `via`: its `delivers(via)`
    (BaseSmsBackend: `via` in its `vias`); a class not built on BaseSmsBackend delivers texts only."""
    ask = getattr(klass, "delivers", None)
    return ask(via) if callable(ask) else via == "sms"


def backends_that_deliver(via: str, backends: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Return the backends the settings name (or of `backends`) that can deliver `via` (sms, call, whatsapp), for
    a system check to say when none can (the chain skips a backend that cannot deliver the message's way)."""
    from django.utils.module_loading import import_string

    able = []
    for backend in every_backend() if backends is None else backends:
        try:
            klass = import_string(backend)
        except ImportError:
            continue  # reported by the system checks
        if delivers(klass, via):
            able.append(backend)
    return tuple(able)
