"""Prometheus metrics at /metrics: exact counts of what happened, only for the token's holder, never a number.

In-process tests read the counters before and after; the live test runs the site under gunicorn with two
worker processes, as in production, and scrapes it from workers that never handled a send.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
import requests
from django.db import transaction
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tests.gunicorn_server import Browser, serve
from tests.helpers import PHONE, T0, at, at_once, code_in, wrong_code
from verification import services
from verification.models import PumpingPause, SentMessage

TOKEN = "metrics-token-for-tests-only-7f3a9c"
#: The numbers of the live test: six French mobiles.
NUMBERS = [f"+3361234560{i}" for i in range(6)]
#: Every label value a metric of the app may carry.
KNOWN_LABELS = {
    "problem": {"invalid_number", "country_not_allowed", "opted_out", "unavailable"},
    # Checks' outcomes, then the bot challenge's.
    "outcome": {"verified", "mismatch", "expired", "locked", "wrong_session"}
    | {"passed", "failed", "unreachable", "not_needed"},
    "limit": {"number", "ip", "session", "budget", "pumping", "destination", "locked", "cooldown"},
    "via": {"sms", "call", "whatsapp"},
    "status": {"delivered", "undelivered", "failed"},
    "flow": {"verify", "sign_in", "second_factor"},
    "delivered": {"yes", "withheld"},
    "source": {"allauth", "two_factor"},
    "result": {"sent", "cooldown", "locked", "failed", "rate_limited", "refused"},
    "provider": {"console", "locmem", "filebased", "twilio", "twilio_verify", "vonage", "hook", "none"},
    "from": {"console", "locmem", "filebased", "twilio", "twilio_verify", "vonage", "hook"},
    "to": {"console", "locmem", "filebased", "twilio", "twilio_verify", "vonage", "hook"},
}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def snapshot() -> dict[tuple, float]:
    """Return every sample of the app's metrics in this process, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in REGISTRY.collect()
        if family.name.startswith("otp_")
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def changes(before: dict, after: dict) -> dict[tuple, float]:
    return {key: after[key] - before.get(key, 0.0) for key in after if after[key] != before.get(key, 0.0)}


def key(name: str, **labels: str) -> tuple:
    return (name, tuple(sorted(labels.items())))


@pytest.mark.django_db
def test_each_outcome_is_counted_once_committed(sms_outbox, settings, sms_down, django_capture_on_commit_callbacks):
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        services.send_code(PHONE, T0)
        code = code_in(sms_outbox[-1])
        services.send_code(PHONE, at(1))  # in the cooldown
        services.check_code(PHONE, wrong_code(code), at(2))
        services.check_code(PHONE, code, at(3), challenge="another browser's")
        services.check_code(PHONE, code, at(4))
        services.check_code(PHONE, code, at(5))  # used up
        settings.OTP_ALLOWED_COUNTRIES = "FR"
        services.send_code("+14155552671", at(6))
        sms_down()
        services.send_code("+33612345670", at(7))
    moved = changes(before, snapshot())
    for provider in ("locmem", "filebased"):
        assert moved.pop(key("otp_sms_provider_seconds_count", provider=provider)) == 1
        assert moved.pop(key("otp_sms_provider_seconds_sum", provider=provider)) >= 0
    assert {k: v for k, v in moved.items() if k[0] != "otp_sms_provider_seconds_bucket"} == {
        key("otp_sms_sent_total", provider="locmem", via="sms"): 1,
        key("otp_sms_failed_total", problem="unavailable", provider="filebased", via="sms"): 1,
        key("otp_send_refusals_total", limit="cooldown"): 1,
        key("otp_send_refusals_total", limit="destination"): 1,
        key("otp_checks_total", outcome="mismatch", via="sms"): 1,
        key("otp_checks_total", outcome="wrong_session", via="sms"): 1,
        key("otp_checks_total", outcome="verified", via="sms"): 1,
        key("otp_checks_total", outcome="expired", via="sms"): 1,
        # The same, told apart by flow.
        key("otp_codes_total", delivered="yes", flow="verify"): 1,
        key("otp_flow_checks_total", flow="verify", outcome="mismatch"): 1,
        key("otp_flow_checks_total", flow="verify", outcome="wrong_session"): 1,
        key("otp_flow_checks_total", flow="verify", outcome="verified"): 1,
        key("otp_flow_checks_total", flow="verify", outcome="expired"): 1,
    }


@pytest.mark.django_db
def test_limits_and_the_pumping_brake_are_counted_by_name(settings, sms_outbox, django_capture_on_commit_callbacks):
    settings.OTP_SEND_BUDGET = "1/1h"
    settings.OTP_PUMPING_MIN_SENDS = 1
    settings.OTP_PUMPING_MIN_CONVERSION = 1.0
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        services.send_code("+33612345670", T0)
        services.send_code("+34612345670", T0)  # over the budget
        services.send_code("+33612345671", at(1))  # +33: one send, nothing verified: the brake trips
    moved = changes(before, snapshot())
    assert moved[key("otp_send_refusals_total", limit="budget")] == 1
    assert moved[key("otp_send_refusals_total", limit="pumping")] == 1
    assert moved[key("otp_pumping_pauses_total")] == 1
    assert PumpingPause.objects.filter(calling_code="33").exists()


@pytest.mark.django_db(transaction=True)
def test_nothing_is_counted_for_work_that_was_rolled_back(sms_outbox):
    services.send_code(PHONE, T0)
    sent = value("otp_sms_sent_total", provider="locmem", via="sms")
    checks = value("otp_checks_total", outcome="mismatch", via="sms")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.check_code(PHONE, wrong_code(code_in(sms_outbox[-1])), at(1))
        raise RuntimeError("the request failed after the check")
    assert value("otp_checks_total", outcome="mismatch", via="sms") == checks
    assert value("otp_sms_sent_total", provider="locmem", via="sms") == sent


@pytest.mark.django_db
def test_the_provider_time_is_measured_and_kept(fake_twilio):
    fake_twilio.delay = 0.2
    services.send_code(PHONE, T0)
    assert SentMessage.objects.get().provider_seconds >= 0.2


@pytest.mark.django_db
def test_metrics_are_hidden_without_the_token(client, settings):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    settings.OTP_METRICS_TOKEN = TOKEN
    for header in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        assert client.get("/metrics", headers=header).status_code == 404
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    assert "otp_checks_total" in response.content.decode()


def scrape(url: str, token: str = TOKEN) -> dict[tuple, float]:
    """Return the app's samples from one scrape on a new connection, so any worker may answer."""
    response = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.status_code
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            for label, label_value in sample.labels.items():
                # No number, no code: only the outcomes the app names, and the histogram's bucket bounds.
                assert label_value in KNOWN_LABELS.get(label, ()) or (label == "le" and float(label_value)), sample
            if not sample.name.startswith("otp_sms_provider_seconds"):
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def counted(samples: dict[tuple, float]) -> dict[tuple, float]:
    return {k: v for k, v in samples.items() if v}


@pytest.mark.django_db(transaction=True)
def test_two_gunicorn_workers_report_exact_totals_whoever_answers(tmp_path):
    with serve(tmp_path, OTP_METRICS_TOKEN=TOKEN, OTP_ALLOWED_COUNTRIES="FR") as app:
        assert requests.get(app.url + "/metrics", timeout=30).status_code == 404
        assert requests.get(app.url + "/metrics", headers={"Authorization": "Bearer x"}, timeout=30).status_code == 404
        browsers = [Browser(app) for _ in NUMBERS]
        sent = at_once([lambda b=b, n=n: b.post("/", {"phone": n}) for b, n in zip(browsers, NUMBERS, strict=True)])
        assert {r.headers.get("Location") for r in sent} == {"/verify/"}
        codes = {sms.split("\n", 1)[0].removeprefix("To: "): code_in(sms.split("\n\n", 1)[1]) for sms in app.sms()}
        checks = [
            lambda b=b, n=n: b.post("/verify/", {"code": codes[n]})
            for b, n in zip(browsers[:3], NUMBERS[:3], strict=True)
        ]
        checks.append(lambda: browsers[3].post("/verify/", {"code": wrong_code(codes[NUMBERS[3]])}))
        checks.append(lambda: browsers[4].post("/", {"phone": NUMBERS[4]}))  # again, in the cooldown
        checks.append(lambda: browsers[5].post("/", {"phone": "+1 415 555 2671"}))  # not an allowed country
        at_once(checks)
        expected = {
            key("otp_sms_sent_total", provider="filebased", via="sms"): 6,
            key("otp_checks_total", outcome="verified", via="sms"): 3,
            key("otp_checks_total", outcome="mismatch", via="sms"): 1,
            key("otp_codes_total", delivered="yes", flow="verify"): 6,
            key("otp_flow_checks_total", flow="verify", outcome="verified"): 3,
            key("otp_flow_checks_total", flow="verify", outcome="mismatch"): 1,
            key("otp_send_refusals_total", limit="cooldown"): 1,
            key("otp_send_refusals_total", limit="destination"): 1,
        }
        for _ in range(6):
            assert counted(scrape(app.url)) == expected
        folder = Path(re.search(r"Prometheus metrics folder: (\S+)", "".join(app.log)).group(1))
        assert folder.is_dir()

        # Replace both workers: their successors never handled a send, yet report every one.
        workers = app.worker_pids()
        assert len(workers) == 2
        for pid in workers:
            os.kill(pid, signal.SIGTERM)
        app.wait_for_log(lambda log: log.count("Booting worker with pid") == 4)
        assert len(app.worker_pids()) == 2 and app.worker_pids().isdisjoint(workers)
        for _ in range(6):
            assert counted(scrape(app.url)) == expected
    assert not [line for line in app.log if "Traceback" in line]
    # The folder gunicorn made for the metrics went with it.
    assert not folder.exists()


@pytest.mark.django_db(transaction=True)
def test_a_metrics_folder_given_to_gunicorn_is_emptied_at_start_and_kept(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"a previous run's counts")
    with serve(tmp_path, OTP_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(folder)) as app:
        assert counted(scrape(app.url)) == {}
        assert not (folder / "counter_1.db").exists()
    assert folder.is_dir()
