"""Each language: the pages, the messages and the SMS follow Accept-Language or the switcher."""

from __future__ import annotations

import pytest

from tests.helpers import code_in

pytestmark = pytest.mark.django_db

#: Accept-Language -> (<html lang>, phone page heading, code page heading, the whole SMS with {code} for the code).
#: The app name (OTP_APP_NAME, "Phone verification" in the tests) is a setting, so it stays as it is.
LANGUAGES = {
    "en": (
        "en",
        "Verify your phone",
        "Enter your code",
        "Phone verification: your code is {code}. It expires in 2 minutes. Do not share it.",
    ),
    "es-ES,es;q=0.9": (
        "es",
        "Verifica tu teléfono",
        "Introduce tu código",
        "Phone verification: tu código es {code}. Caduca en 2 minutos. No lo compartas.",
    ),
    "fr-FR,fr;q=0.9": (
        "fr",
        "Vérifiez votre téléphone",
        "Saisissez votre code",
        "Phone verification : votre code est {code}. Il expire dans 2 minutes. Ne le partagez pas.",
    ),
    "de": (
        "de",
        "Bestätigen Sie Ihre Telefonnummer",
        "Code eingeben",
        "Phone verification: Ihr Code lautet {code}. Er läuft in 2 Minuten ab. Geben Sie ihn nicht weiter.",
    ),
    "pt-BR": (
        "pt-br",
        "Verifique seu telefone",
        "Digite seu código",
        "Phone verification: seu código é {code}. Ele expira em 2 minutos. Não o compartilhe.",
    ),
}


def html(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("accept_language", LANGUAGES)
def test_pages_and_sms_are_in_the_visitors_language(client, sms_outbox, accept_language):
    lang, phone_heading, code_heading, sms_text = LANGUAGES[accept_language]
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = accept_language

    page = html(client.get("/"))
    assert f'<html lang="{lang}">' in page
    assert f"<h1>{phone_heading}</h1>" in page
    assert f"<title>{phone_heading} · " in page

    response = client.post("/", {"phone": "+33 6 12 34 56 78"})
    assert response.status_code == 302
    body = sms_outbox[-1].body
    assert body == sms_text.format(code=code_in(body)), body

    page = html(client.get("/verify/"))
    assert f'<html lang="{lang}">' in page
    assert f"<h1>{code_heading}</h1>" in page


def test_sms_lifetime_and_error_messages_are_translated(client, sms_outbox):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    client.post("/", {"phone": "+33 6 12 34 56 78"})
    assert "läuft in 2 Minuten ab" in sms_outbox[-1].body
    page = html(client.post("/verify/", {"code": "1"}))
    assert "Der Code hat 6 Ziffern." in page
    page = html(client.post("/", {"phone": "nope"}))
    assert "Das ist keine gültige Telefonnummer." in page


def test_switcher_is_on_every_page_and_keeps_the_flow(client, sms_outbox):
    client.post("/", {"phone": "+33 6 12 34 56 78"})
    page = html(client.get("/verify/"))
    assert 'action="/i18n/setlang/"' in page and 'name="next" value="/verify/"' in page
    assert '<option value="fr" lang="fr">Français</option>' in page

    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/verify/"})
    assert response.status_code == 302 and response["Location"] == "/verify/"
    page = html(client.get("/verify/"))
    assert "<h1>Saisissez votre code</h1>" in page
    assert "+33 6 •• •• •• 78" in page  # still the same flow
    assert '<option value="fr" lang="fr" selected>' in page

    # The choice outlasts Accept-Language, and the next SMS follows it.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    client.post("/", {"phone": "+44 7911 123456"})
    body = sms_outbox[-1].body
    assert body == LANGUAGES["fr-FR,fr;q=0.9"][3].format(code=code_in(body)), body


def test_switcher_refuses_to_send_people_off_site(client):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
