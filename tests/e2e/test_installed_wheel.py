"""The wheel, installed in a new virtualenv without the checkout, running examples/host_project over HTTP."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from packaging.requirements import Requirement

from tests.helpers import ROOT, code_in
from tests.wheel_host import Host, build_wheel, new_virtualenv, runtime_requirements, serve

PASSWORD = "a long example password"

#: Settings the tests add to the example host: their own database and an SMS outbox they can read.
TEST_SETTINGS = """
from host_project.settings import *  # noqa: F403

DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}}}}}
SMS_BACKEND = "verification.sms.backends.filebased.SmsBackend"
SMS_FILE_PATH = {outbox!r}
"""
#: The same host with the app under another prefix and its own layout for the app's pages.
OTHER_PREFIX_SETTINGS = """
from wheel_test_settings import *  # noqa: F403

ROOT_URLCONF = "other_prefix_urls"
TEMPLATES[0]["DIRS"] = [BASE_DIR / "host_templates"]  # noqa: F405
"""
OTHER_PREFIX_URLS = """
from django.urls import include, path

from host_project.urls import urlpatterns

urlpatterns = [p for p in urlpatterns if str(p.pattern) != "phone/"]
urlpatterns.append(path("members/check-your-phone/", include("verification.urls")))
"""
HOST_LAYOUT = """<!doctype html>
<html lang="en"><head><title>{% block title %}{% endblock %} | Members</title></head>
<body class="members-layout"><nav>Members area</nav>{% block content %}{% endblock %}</body></html>
"""
#: What the installed interpreter reports about itself, run from the host's folder.
PROBE = """
import importlib.util, json, sys, verification
print(json.dumps({
    "verification": verification.__file__,
    "path": sys.path,
    "missing": [m for m in ("otpsite", "whitenoise", "csp", "redis", "environ") if importlib.util.find_spec(m) is None],
}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def host(tmp_path_factory, wheel) -> Host:
    """The example host in a scratch folder, run by a new virtualenv holding the wheel, migrated, with three users."""
    work = tmp_path_factory.mktemp("host")
    python = new_virtualenv(work / "venv", wheel)
    project = work / "host_project"
    shutil.copytree(ROOT / "examples" / "host_project", project, ignore=shutil.ignore_patterns("__pycache__", "db.*"))
    (project / "wheel_test_settings.py").write_text(
        TEST_SETTINGS.format(db=str(work / "db.sqlite3"), outbox=str(work / "sms"))
    )
    (project / "other_prefix_settings.py").write_text(OTHER_PREFIX_SETTINGS)
    (project / "other_prefix_urls.py").write_text(OTHER_PREFIX_URLS)
    (project / "host_templates" / "verification").mkdir(parents=True)
    (project / "host_templates" / "verification" / "base.html").write_text(HOST_LAYOUT)
    host = Host(python, project, "wheel_test_settings")
    host.manage("migrate", "--noinput")
    host.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        f"for name in ('alice', 'bob', 'carol'): get_user_model().objects.create_user(name, password={PASSWORD!r})",
    )
    return host


@pytest.fixture(scope="module")
def site(host):
    with serve(host) as live:
        yield live.url


def normalised(requirements: list[str]) -> set[str]:
    """Return requirement lines in one spelling, leaving out comments and blank lines."""
    return {str(Requirement(line)) for line in requirements if line.strip() and not line.lstrip().startswith("#")}


def latest_code(host: Host, phone: str) -> str:
    """Return the code of the last SMS the host sent to `phone`."""
    outbox = Path(host.project.parent / "sms")
    messages = [path.read_text() for path in sorted(outbox.iterdir())]
    body = [m.split("\n\n", 1)[1] for m in messages if m.startswith(f"To: {phone}\n")][-1]
    return code_in(body)


def log_in(browser: requests.Session, base: str, username: str, next_url: str) -> requests.Response:
    """Log in on the host's login page; return the response after its redirects."""
    browser.get(f"{base}/accounts/login/", timeout=10)
    return browser.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "next": next_url,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        timeout=10,
    )


def verify(browser: requests.Session, base: str, prefix: str, host: Host, phone: str) -> requests.Response:
    """Type `phone` on the phone page at `prefix`, then the code it was sent; return the response after redirects."""
    token = browser.cookies["csrftoken"]
    sent = browser.post(f"{base}{prefix}", data={"phone": phone, "csrfmiddlewaretoken": token}, timeout=10)
    assert sent.url == f"{base}{prefix}verify/", sent.text
    code = latest_code(host, phone)
    return browser.post(f"{base}{prefix}verify/", data={"code": code, "csrfmiddlewaretoken": token}, timeout=10)


def verified_rows(host: Host) -> list[tuple[str, str]]:
    with sqlite3.connect(host.project.parent / "db.sqlite3") as db:
        return db.execute(
            "SELECT auth_user.username, phone FROM verification_verifiedphone JOIN auth_user ON auth_user.id = user_id"
        ).fetchall()


def test_the_wheel_carries_the_app_with_its_files_and_nothing_of_the_site(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert wheel.name.startswith("django_phone_otp_verification-")
    for locale in ("de", "es", "fr", "pt_BR"):
        assert f"verification/locale/{locale}/LC_MESSAGES/django.mo" in names
    for name in (
        "verification/templates/verification/base.html",
        "verification/templates/verification/admin/send_budget_banner.html",
        "verification/static/verification/countdown.js",
        "verification/static/verification/site.css",
        "verification/migrations/0006_verified_phone.py",
        "verification/migrations/0010_event_channel.py",
        "verification/api/views.py",
        "verification/management/commands/purge_verifications.py",
    ):
        assert name in names
    assert {name.split("/")[0] for name in names} == {"verification", wheel.name.split("-")[0] + "-0.1.0.dist-info"}
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    required = re.findall(r"^Requires-Dist: ([^;\n]+)$", metadata, re.MULTILINE)
    assert normalised(required) == normalised(runtime_requirements())
    assert "Provides-Extra: redis" in metadata
    assert "Provides-Extra: allauth" in metadata and "Provides-Extra: two-factor" in metadata


def test_every_dependency_of_the_wheel_is_in_requirements_txt():
    # The site installs the app's dependencies plus its own; the two lists must not drift apart.
    site_requirements = (ROOT / "requirements.txt").read_text().splitlines()
    assert normalised(runtime_requirements()) <= normalised(site_requirements)


def test_the_host_runs_the_installed_app_and_nothing_of_the_checkout(host):
    probe = json.loads(host.manage("shell", "-c", PROBE).splitlines()[-1])
    assert Path(probe["verification"]).is_relative_to(host.python.parent.parent)
    assert not any(Path(entry).resolve().is_relative_to(ROOT) for entry in probe["path"] if entry)
    # The site's dependencies are optional in a host: the app runs without any of them.
    assert probe["missing"] == ["otpsite", "whitenoise", "csp", "redis", "environ"]


def test_a_logged_in_user_verifies_and_lands_back_on_the_protected_page(host, site):
    browser = requests.Session()
    gate = log_in(browser, site, "alice", "/orders/")
    assert gate.url == f"{site}/phone/?next=%2Forders%2F" and "Verify your phone" in gate.text
    # The app's pages work in the host as they are: its stylesheet and script are served.
    for asset in re.findall(r'(?:href|src)="(/static/verification/[^"]+)"', gate.text):
        assert browser.get(site + asset, timeout=10).status_code == 200

    back = verify(browser, site, "/phone/", host, "+33612345601")
    assert back.url == f"{site}/orders/"
    assert "We will text +33612345601 when your order ships." in back.text
    # The host's receiver of phone_verified saw the number and the user.
    assert "Thank you, alice: +33612345601 is verified." in back.text
    assert verified_rows(host) == [("alice", "+33612345601")]

    # Verified while logged in, the number is now Alice's sign-in number: another browser logs in with the password
    # and a code to it (the host routes the app's LoginView), and the gate opens at once.
    elsewhere = requests.Session()
    confirm = log_in(elsewhere, site, "alice", "/orders/")
    assert confirm.url == f"{site}/phone/login/confirm/code/" and "+33 6 •• •• •• 01" in confirm.text
    back = second_factor(elsewhere, site, host, "+33612345601")
    assert back.url == f"{site}/orders/"


def second_factor(browser: requests.Session, base: str, host: Host, phone: str) -> requests.Response:
    """Type the code sent to `phone` on the second factor's code page; return the response after redirects."""
    return browser.post(
        f"{base}/phone/login/confirm/code/",
        data={"code": latest_code(host, phone), "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        timeout=10,
    )


def test_sign_in_with_your_phone_then_a_login_with_the_second_factor(host, site):
    phone = "+33612345620"
    browser = requests.Session()
    # Bob has no sign-in number yet: the password alone logs him in; verifying a number makes it his.
    assert log_in(browser, site, "bob", "/").url == f"{site}/"
    verify(browser, site, "/phone/", host, phone)
    browser.post(f"{site}/accounts/logout/", data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]}, timeout=10)

    # "Sign in with your phone" on the home page: a number, a code, and Bob is back home, logged in.
    home = browser.get(f"{site}/", timeout=10)
    link = re.search(r'href="([^"]+)">Sign in with your phone<', home.text).group(1)
    form = browser.get(site + link.replace("&amp;", "&"), timeout=10)
    assert form.url == f"{site}/phone/sign-in/?next=/" and 'name="phone"' in form.text
    token = browser.cookies["csrftoken"]
    sent = browser.post(form.url, data={"phone": phone, "csrfmiddlewaretoken": token}, timeout=10)
    assert sent.url == f"{site}/phone/sign-in/verify/"
    signed_in = browser.post(
        sent.url, data={"code": latest_code(host, phone), "csrfmiddlewaretoken": token}, timeout=10
    )
    assert signed_in.url == f"{site}/" and "Logged in as bob" in signed_in.text and "Welcome, bob." in signed_in.text

    # A login with the password now asks for the code, and only the code completes it.
    other = requests.Session()
    confirm = log_in(other, site, "bob", "/orders/")
    assert confirm.url == f"{site}/phone/login/confirm/code/" and "Logged in as" not in confirm.text
    assert other.get(f"{site}/orders/", timeout=10).url.startswith(f"{site}/accounts/login/")
    back = second_factor(other, site, host, phone)
    assert back.url == f"{site}/orders/" and "Logged in as bob" in back.text


def test_an_app_verifies_through_the_api_under_the_hosts_prefix(host, site):
    phone = "+33612345606"
    sent = requests.post(f"{site}/phone/api/v1/send", json={"phone": phone}, timeout=10)
    assert sent.status_code == 201 and not sent.cookies
    body = {"challenge": sent.json()["challenge"], "code": latest_code(host, phone)}
    checked = requests.post(f"{site}/phone/api/v1/check", json=body, timeout=10)
    assert checked.status_code == 200 and not checked.cookies
    # The host's backend reads the token the app hands it.
    token = checked.json()["token"]
    read = host.manage("shell", "-c", f"from verification.shortcuts import phone_from_token as p; print(p({token!r}))")
    assert read.splitlines()[-1] == phone


@pytest.mark.parametrize(
    ("next_url", "phone"),
    [
        ("https://evil.example/", "+33612345602"),
        ("//evil.example", "+33612345603"),
        ("/\\evil.example", "+33612345604"),
    ],
)
def test_an_off_site_next_ends_on_the_verified_page(host, site, next_url, phone):
    browser = requests.Session()
    assert browser.get(f"{site}/phone/?{urlencode({'next': next_url})}", timeout=10).status_code == 200
    done = verify(browser, site, "/phone/", host, phone)
    assert done.url == f"{site}/phone/verified/" and "is verified" in done.text
    assert all(response.headers["Location"].startswith("/") for response in done.history)


def test_under_another_prefix_in_the_hosts_own_layout(host):
    other = Host(host.python, host.project, "other_prefix_settings")
    with serve(other) as live:
        site = live.url
        browser = requests.Session()
        gate = log_in(browser, site, "carol", "/orders/")
        assert gate.url == f"{site}/members/check-your-phone/?next=%2Forders%2F"
        assert 'class="members-layout"' in gate.text and "verification/site.css" not in gate.text
        assert 'action="/members/check-your-phone/"' in gate.text
        back = verify(browser, site, "/members/check-your-phone/", host, "+33612345605")
        assert back.url == f"{site}/orders/" and "Thank you, carol: +33612345605 is verified." in back.text
    assert ("carol", "+33612345605") in verified_rows(host)


#: A host on django-allauth's phone login with the app's adapter, as README's "With django-allauth" says.
ALLAUTH_SETTINGS = """
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "wheel-test-allauth-host"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions", "django.contrib.messages",
    "django.contrib.staticfiles", "allauth", "allauth.account", "verification",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend", "allauth.account.auth_backends.AuthenticationBackend",
]
ROOT_URLCONF = "allauth_urls"
TEMPLATES = [{{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {{"context_processors": [
        "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]}},
}}]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}}}}}
STATIC_URL = "static/"
USE_TZ = True
ACCOUNT_ADAPTER = "verification.contrib.allauth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {{"phone"}}
ACCOUNT_SIGNUP_FIELDS = ["phone*"]
ACCOUNT_RATE_LIMITS = {{"verify_phone": None}}
LOGIN_REDIRECT_URL = "/me/"
SMS_BACKEND = "verification.sms.backends.filebased.SmsBackend"
SMS_FILE_PATH = {outbox!r}
"""
ALLAUTH_URLS = """
from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("allauth.urls")),
    path("phone/", include("verification.urls")),
    path("me/", lambda request: HttpResponse(f"me: {request.user.get_username()}")),
]
"""


def allauth_code(outbox: Path, phone: str) -> str:
    """Return allauth's code (e.g. 4KQ7-ZD2M) in the last text the host sent to `phone`."""
    messages = [path.read_text() for path in sorted(outbox.iterdir())]
    body = [m.split("\n\n", 1)[1] for m in messages if m.startswith(f"To: {phone}\n")][-1]
    return re.search(r"your code is (\S+)\. Do not share it", body).group(1)


def test_a_host_on_django_allauth_signs_up_by_phone_through_the_installed_app(tmp_path, wheel):
    python = new_virtualenv(tmp_path / "venv", wheel, extra="allauth")
    project = tmp_path / "allauth_host"
    project.mkdir()
    (project / "manage.py").write_text((ROOT / "examples" / "host_project" / "manage.py").read_text())
    (project / "allauth_settings.py").write_text(
        ALLAUTH_SETTINGS.format(db=str(tmp_path / "db.sqlite3"), outbox=str(tmp_path / "sms"))
    )
    (project / "allauth_urls.py").write_text(ALLAUTH_URLS)
    host = Host(python, project, "allauth_settings")
    assert "no issues" in host.manage("check")
    host.manage("migrate", "--noinput")
    phone = "+33612345607"
    with serve(host) as live:
        browser = requests.Session()
        browser.get(f"{live.url}/accounts/signup/", timeout=10)
        token = browser.cookies["csrftoken"]
        sent = browser.post(f"{live.url}/accounts/signup/", data={"phone": phone, "csrfmiddlewaretoken": token})
        assert sent.url == f"{live.url}/accounts/phone/verify/", sent.text
        code = allauth_code(tmp_path / "sms", phone)
        token = browser.cookies["csrftoken"]
        done = browser.post(sent.url, data={"code": code, "csrfmiddlewaretoken": token}, timeout=10)
        # Signed in, as the account allauth made (it names it, "user" here).
        assert done.url == f"{live.url}/me/" and done.text == "me: user"
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        assert db.execute(
            "SELECT username, phone FROM verification_signinnumber JOIN auth_user ON auth_user.id = user_id"
        ).fetchall() == [("user", phone)]
        assert db.execute("SELECT kind, channel FROM verification_verificationevent ORDER BY id").fetchall() == [
            ("sent", "allauth"),
            ("verified", "allauth"),
        ]
