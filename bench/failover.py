"""What the failover chain costs: a send through SMS_BACKEND alone vs. the same send with a fallback configured
(the primary working), and the time to deliver through the secondary while the primary hangs.

In-process, against the test suite's fake Twilio and fake hook receiver (real HTTP on 127.0.0.1), on a fresh
SQLite database: the figures are the send path's own (claim, chain, store), without a web server. Run it on a
quiet machine: `make bench-failover` (about half a minute with the defaults).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def _setup(folder: Path) -> None:
    os.environ["DJANGO_DEBUG"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "otpsite.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'failover.sqlite3'}"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _numbers():
    i = 0
    while True:
        yield f"+336{10000000 + i:08d}"
        i += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=300, help="sends per configuration and round (default 300)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--hang-sends", type=int, default=30, help="sends while the primary hangs (default 30)")
    parser.add_argument("--timeout", type=float, default=2.0, help="the primary's timeout in seconds (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        _setup(Path(folder))
        run(args)


def run(args) -> None:
    from django.test.utils import override_settings
    from django.utils import timezone

    from tests.fakes.hook_server import FakeHook
    from tests.fakes.twilio_server import FakeTwilio
    from verification import services
    from verification.limits import outage
    from verification.services import SendOutcome

    twilio = FakeTwilio("AC" + "0" * 32, "t" * 32)
    twilio.start()
    hook = FakeHook().start()
    numbers = _numbers()
    common = {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": twilio.base_url,
        "SMS_BACKEND": "twilio",
        "SMS_HOOK_URL": hook.url,
        "SMS_HOOK_SECRET": hook.secret,
        "OTP_SEND_LIMITS_PER_NUMBER": "",
        "OTP_SEND_LIMITS_PER_IP": "",
        "OTP_SEND_LIMITS_PER_SESSION": "",
        "OTP_SEND_BUDGET": "",
        "OTP_PUMPING_MIN_SENDS": 10**9,
    }

    def timed_sends(count: int) -> list[float]:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            result = services.send_code(next(numbers), timezone.now())
            times.append(time.perf_counter() - started)
            assert result.outcome is SendOutcome.SENT, result
        return times

    try:
        alone, chained = [], []
        for _ in range(args.rounds):
            with override_settings(**common, SMS_FALLBACK_BACKENDS=()):
                alone += timed_sends(args.sends)
            with override_settings(**common, SMS_FALLBACK_BACKENDS=("hook",)):
                chained += timed_sends(args.sends)
        ms = lambda seconds: f"{seconds * 1000:.2f} ms"  # noqa: E731
        a, c = statistics.median(alone), statistics.median(chained)
        print(f"send, primary only:            median {ms(a)} over {len(alone)} sends")
        print(f"send, primary + fallback:      median {ms(c)} over {len(chained)} sends ({(c - a) / a:+.1%})")

        twilio.hang(times=None)
        outage.forget()
        with override_settings(**common, SMS_FALLBACK_BACKENDS=("hook",), TWILIO_TIMEOUT_SECONDS=args.timeout):
            hung = timed_sends(args.hang_sends)
        first = hung[: max(1, int(os.environ.get("OTP_OUTAGE_FAILURES", "3")))]
        rest = hung[len(first) :]
        print(
            f"primary hangs ({args.timeout:g} s timeout): first {len(first)} sends "
            + ", ".join(ms(t) for t in first)
            + (f"; the next {len(rest)}: median {ms(statistics.median(rest))}, max {ms(max(rest))}" if rest else "")
        )
    finally:
        twilio.stop()
        hook.stop()


if __name__ == "__main__":
    main()
