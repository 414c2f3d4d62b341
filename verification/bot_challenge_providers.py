"""The bot challenge's providers (Cloudflare Turnstile, hCaptcha): what each widget loads, where its tokens are
checked, and the Content-Security-Policy sources it needs. Reads only the settings, so a site's CSP middleware
may import it without the app's models."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from verification.conf import app_settings


@dataclass(frozen=True)
class Provider:
    """A challenge provider: its widget, where its token is checked, and what its widget loads."""

    name: str
    label: str
    script_url: str
    verify_url: str
    #: The class of the element the provider's script turns into the widget.
    css_class: str
    #: The form field the widget fills with its token.
    response_field: str
    #: Content-Security-Policy sources the widget needs besides its script's origin, by directive.
    csp_sources: dict[str, tuple[str, ...]]


PROVIDERS = {
    "turnstile": Provider(
        name="turnstile",
        label="Cloudflare Turnstile",
        script_url="https://challenges.cloudflare.com/turnstile/v0/api.js",
        verify_url="https://challenges.cloudflare.com/turnstile/v0/siteverify",
        css_class="cf-turnstile",
        response_field="cf-turnstile-response",
        csp_sources={
            "script-src": ("https://challenges.cloudflare.com",),
            "frame-src": ("https://challenges.cloudflare.com",),
        },
    ),
    "hcaptcha": Provider(
        name="hcaptcha",
        label="hCaptcha",
        script_url="https://js.hcaptcha.com/1/api.js",
        verify_url="https://api.hcaptcha.com/siteverify",
        css_class="h-captcha",
        response_field="h-captcha-response",
        # hCaptcha's documentation asks for its origins in these four directives.
        csp_sources={
            directive: ("https://hcaptcha.com", "https://*.hcaptcha.com")
            for directive in ("script-src", "frame-src", "style-src", "connect-src")
        },
    ),
}


@dataclass(frozen=True)
class Widget:
    """What a page needs to show the challenge (verification/_bot_challenge.html)."""

    provider: str
    css_class: str
    site_key: str
    script_url: str
    response_field: str


def provider() -> Provider | None:
    """Return the configured provider, or None when the challenge is off."""
    return PROVIDERS.get(app_settings.bot_challenge)


def script_url() -> str:
    """Return the widget's script: OTP_BOT_CHALLENGE_SCRIPT_URL, or the provider's own."""
    chosen = provider()
    return app_settings.bot_challenge_script_url or (chosen.script_url if chosen else "")


def widget() -> Widget | None:
    """Return the widget of the configured provider, or None when the challenge is off."""
    chosen = provider()
    if chosen is None:
        return None
    return Widget(
        chosen.name, chosen.css_class, app_settings.bot_challenge_site_key, script_url(), chosen.response_field
    )


def csp_sources() -> dict[str, list[str]]:
    """Return the Content-Security-Policy sources the widget needs, by directive; empty when the challenge is off."""
    chosen = provider()
    if chosen is None:
        return {}
    sources = {directive: list(origins) for directive, origins in chosen.csp_sources.items()}
    parts = urlsplit(script_url())
    if parts.scheme and parts.netloc:
        origin = f"{parts.scheme}://{parts.netloc}"
        for directive in ("script-src", "frame-src"):
            if origin not in sources.setdefault(directive, []):
                sources[directive].append(origin)
    return sources
