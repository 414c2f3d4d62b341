"""The integrations' own suite (tests/integrations) and its system checks, each in a process of its own.

tests/integrations runs under a host project's settings with django-allauth and django-two-factor-auth installed;
this module starts it, so a plain `pytest` (and `make test`) runs it too, on the same database engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import ROOT

#: Run in a fresh interpreter in which django-allauth and django-two-factor-auth cannot be imported, as in a
#: project that names the integration without installing its extra; prints the ids of the checks that fired.
WITHOUT_LIBRARIES = """
import importlib.abc, json, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("allauth", "two_factor"):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Missing())
import django
from django.conf import settings
django.setup()
settings.ACCOUNT_ADAPTER = "verification.contrib.allauth.AccountAdapter"
settings.TWO_FACTOR_SMS_GATEWAY = "verification.contrib.two_factor.Gateway"
from django.core import checks
print(json.dumps(sorted(m.id for m in checks.run_checks() if m.id.startswith("verification."))))
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("allauth", "two_factor"))))
"""


def test_the_integrations_suite_passes_under_its_own_settings():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.integrations.settings"}
    command = [sys.executable, "-m", "pytest", "tests/integrations", "-q", "-p", "no:cacheprovider"]
    command += ["--ds=tests.integrations.settings", "-o", "addopts="]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout


def test_checks_say_which_library_is_missing_and_the_app_imports_neither():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    run = subprocess.run(
        [sys.executable, "-c", WITHOUT_LIBRARIES], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    fired, imported = (json.loads(line) for line in run.stdout.strip().splitlines()[-2:])
    assert fired == ["verification.E250", "verification.E253"]
    assert imported == []


def ids(messages) -> list[str]:
    return sorted(m.id for m in messages)


def test_a_project_that_names_neither_integration_hears_nothing_of_them(settings):
    from verification.contrib.checks import check_allauth, check_two_factor

    assert check_allauth() == [] and check_two_factor() == []


def test_checks_say_what_an_installed_library_still_needs(settings):
    from verification.contrib.checks import check_allauth, check_two_factor

    settings.ACCOUNT_ADAPTER = "verification.contrib.allauth.AccountAdapter"
    settings.TWO_FACTOR_SMS_GATEWAY = "verification.contrib.two_factor.Gateway"
    settings.TWO_FACTOR_CALL_GATEWAY = "verification.contrib.two_factor.Gateway"
    # The site's settings: neither library's apps nor middleware.
    assert ids(check_allauth()) == ["verification.E251", "verification.E252"]
    assert ids(check_two_factor()) == ["verification.E254", "verification.W255", "verification.W256"]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "verification.contrib.relay.RequestMiddleware"]
    # Calls go through once the app offers them (W256 was: every call refused).
    settings.OTP_DELIVERY_METHODS = "sms,call"
    assert ids(check_two_factor()) == ["verification.E254"]
    del settings.OTP_DELIVERY_METHODS
    del settings.TWO_FACTOR_CALL_GATEWAY
    assert ids(check_two_factor()) == ["verification.E254"]
