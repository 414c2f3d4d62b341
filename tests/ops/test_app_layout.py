"""The layout rules of docs/architecture.md that a newcomer relies on, checked on the source."""

from __future__ import annotations

import re

from tests.helpers import ROOT
from verification.conf import DEFAULTS

APP = ROOT / "verification"


def sources(folder):
    return {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8") for path in folder.rglob("*.py")}


def importers(pattern: str, folder=APP) -> set[str]:
    return {name for name, text in sources(folder).items() if re.search(pattern, text, re.MULTILINE)}


def test_the_app_reads_its_settings_only_through_conf():
    # The issue's own check: git grep -nE 'settings\.(OTP|SMS|TWILIO)_' verification/
    readers = {name for name, text in sources(APP).items() if re.search(r"settings\.(OTP|SMS|TWILIO)_", text)}
    assert readers <= {"verification/conf.py"}
    by_getattr = importers(r"getattr\(settings,")
    assert by_getattr <= {"verification/conf.py"}


def test_nothing_outside_sms_imports_twilio():
    found = importers(r"^\s*(import|from)\s+twilio\b") | importers(r"^\s*(import|from)\s+twilio\b", ROOT / "otpsite")
    assert found and all(name.startswith("verification/sms/") for name in found), found


def test_nothing_outside_admin_imports_the_admin():
    found = importers(r"^\s*(from|import)\s+verification\.admin\b|^\s*from\s+verification\s+import\s+admin\b")
    assert all(name.startswith("verification/admin/") for name in found), found


def test_the_app_never_imports_the_site():
    assert importers(r"^\s*(from|import)\s+otpsite\b") == set()


def test_every_setting_and_its_default_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `((?:OTP|SMS|TWILIO|VONAGE)_[A-Z0-9_]+)` \| ([^|]*) \|", readme, re.MULTILINE))
    assert set(rows) == set(DEFAULTS)
    for name, default in DEFAULTS.items():
        if isinstance(default, str) and default:
            assert f"`{default}`" in rows[name], name
        elif isinstance(default, int | float) and not isinstance(default, bool):
            assert f"`{default:g}`" in rows[name], name


def test_the_outcomes_are_below_both_services_and_metrics():
    # metrics counts the outcomes services decides, and services imports metrics: neither imports the other's.
    assert "verification/metrics.py" not in importers(r"verification\.services\b|from verification import .*services")
    from verification import outcomes, services

    assert services.CheckOutcome is outcomes.CheckOutcome and services.SendOutcome is outcomes.SendOutcome


def test_opentelemetry_is_imported_only_inside_functions_of_tracing():
    # A host that skips the otel extra loads every module of the app (and the site) without it.
    found = importers(r"^(import|from)\s+opentelemetry\b") | importers(
        r"^(import|from)\s+opentelemetry\b", ROOT / "otpsite"
    )
    assert found == set()
    assert importers(r"^\s+(import|from)\s+opentelemetry\b") == {"verification/tracing.py"}
