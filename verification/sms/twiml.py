"""The TwiML of a voice call that reads a code out: inline, so no URL ever serves a code.

Each digit is its own word with a pause after it, in a voice of the page's language, with the app's name, and
the whole code is said twice. Twilio's Amazon Polly voices speak all five of the app's languages.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from django.utils import translation
from django.utils.translation import gettext

#: Django language code -> (Twilio <Say> language, voice).
VOICES = {
    "en": ("en-US", "Polly.Joanna"),
    "es": ("es-ES", "Polly.Lucia"),
    "fr": ("fr-FR", "Polly.Lea"),
    "de": ("de-DE", "Polly.Vicki"),
    "pt-br": ("pt-BR", "Polly.Camila"),
}
DEFAULT_LANGUAGE = "en"
#: Seconds of silence after each digit, and before the code is said again.
DIGIT_PAUSE = 1
REPEAT_PAUSE = 2


def voice_for(language: str) -> tuple[str, str]:
    """Return Twilio's (language, voice) for a Django language code: its own, its base language's, or English."""
    code = (language or "").lower().replace("_", "-")
    return VOICES.get(code) or VOICES.get(code.split("-")[0]) or VOICES[DEFAULT_LANGUAGE]


def spoken_lines(app_name: str, language: str) -> tuple[str, str, str]:
    """Return what the call says before the code, before it again, and at the end, in `language`."""
    with translation.override(language or None):
        return (
            gettext("This is %(app)s. Your code is:") % {"app": app_name},
            gettext("Once again, your code is:"),
            gettext("Do not share it. Goodbye."),
        )


def call_script(code: str, app_name: str, language: str) -> str:
    """Return the call's words as plain text (what a console backend shows instead of the call)."""
    intro, again, outro = spoken_lines(app_name, language)
    digits = " ".join(code)
    return f"{intro} {digits}. {again} {digits}. {outro}"


def twiml(code: str, app_name: str, language: str) -> str:
    """Return the <Response> that reads `code` digit by digit, twice, in the voice of `language`."""
    say_language, voice = voice_for(language)
    attrs = f" voice={quoteattr(voice)} language={quoteattr(say_language)}"
    intro, again, outro = spoken_lines(app_name, language)

    def say(text: str) -> str:
        return f"<Say{attrs}>{escape(text)}</Say>"

    digits = "".join(f'{say(digit)}<Pause length="{DIGIT_PAUSE}"/>' for digit in code)
    repeat = f'<Pause length="{REPEAT_PAUSE}"/>'
    return f"<Response>{say(intro)}{digits}{repeat}{say(again)}{digits}{say(outro)}</Response>"
