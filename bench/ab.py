"""A/B: two checkouts of the site measured interleaved in one run, so a change is read against the same noise.

    python -m bench --ab OTHER_CHECKOUT [--rounds 2] [--seconds 10]

A is OTHER_CHECKOUT (e.g. `git worktree add ../main-bench main`), B is this one. Both sites run under this
virtualenv's Python with their own gunicorn.conf.py, each on a fresh database of the same engine (empty
tables: the million-number run is the plain bench's). Each round measures the floors' one-row POST, then every
site phase for A and for B back to back, A first in odd rounds and B first in even ones; a figure is the sum
over rounds. Each checkout's statements per request are counted by bench/statements.py run in that checkout.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from bench import flows, load
from bench.flows import Site
from bench.provider import BenchTwilio
from bench.report import machine
from bench.servers import (
    ROOT,
    Gunicorn,
    drop_database,
    floor_environ,
    fresh_database,
    gunicorn_settings,
    is_sqlite,
    manage,
    middleware_floor_environ,
    site_environ,
)

#: Site phases, each run for A and B in every round: (name, step, setup).
PHASES = ("wrong_code", "api_wrong_code", "verification", "send_0ms", "phone_get")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def merge(into: dict[str, load.Result], done: dict[str, load.Result]) -> None:
    """Add a phase's results to those of earlier rounds (seconds, latencies and outcomes add up)."""
    for name, result in done.items():
        total = into.setdefault(name, load.Result(name, 0.0))
        total.seconds += result.seconds
        total.latencies.extend(result.latencies)
        total.outcomes.update(result.outcomes)
        total.errors += result.errors
        total.first_error = total.first_error or result.first_error


def statements(root: Path, env: dict[str, str]) -> dict[str, int]:
    """Return the statements per request of the checkout at `root` (see bench/statements.py)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "statements.py")], cwd=root, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"counting statements in {root} failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(other: Path, rounds: int, seconds: float, clients: int, database_url: str, workdir: Path) -> str:
    """Run the A/B bench and return its report (markdown)."""
    load_before = os.getloadavg()
    provider = BenchTwilio().start()
    site = Site(provider)
    checkouts = {"A": other.resolve(), "B": ROOT}
    started: list[Gunicorn] = []
    made: list[str] = []
    warmup = min(1.0, seconds / 4)
    try:
        log("preparing databases")
        floor_url = fresh_database(database_url, workdir, "floor")
        middleware_floor_url = fresh_database(database_url, workdir, "middleware_floor")
        made += [floor_url, middleware_floor_url]
        manage(floor_environ(floor_url), "migrate", "--noinput")
        manage(middleware_floor_environ(middleware_floor_url), "migrate", "--noinput")
        sites: dict[str, Gunicorn] = {}
        envs: dict[str, dict[str, str]] = {}
        counts: dict[str, dict[str, int]] = {}
        for name, root in checkouts.items():
            url = fresh_database(database_url, workdir, f"app_{name.lower()}")
            count_url = fresh_database(database_url, workdir, f"statements_{name.lower()}")
            made += [url, count_url]
            env = envs[name] = site_environ(url, provider.site_environ())
            manage(env, "migrate", "--noinput", root=root)
            manage(env, "collectstatic", "--noinput", "--verbosity", "0", root=root)
            count_env = site_environ(count_url, provider.site_environ())
            manage(count_env, "migrate", "--noinput", root=root)
            counts[name] = statements(root, count_env)
            log(f"{name} ({root.name}): statements {counts[name]}")
        floor = Gunicorn("floor", "bench.floor.wsgi", floor_environ(floor_url), workdir)
        middleware_floor = Gunicorn(
            "middleware_floor", "bench.floor.site_wsgi", middleware_floor_environ(middleware_floor_url), workdir
        )
        started += [floor, middleware_floor]
        for name, root in checkouts.items():
            sites[name] = Gunicorn(f"site_{name}", "otpsite.wsgi", envs[name], workdir, root=root)
            started.append(sites[name])
        for server in started:
            server.wait_ready()
        results: dict[str, dict[str, load.Result]] = {"A": {}, "B": {}, "floor": {}}

        def phase(into: str, port: int, group: load.Group) -> None:
            done = load.run(port, [group], seconds, warmup)
            merge(results[into], done)
            result = done[group.name]
            errors = f", {result.errors} errors (first: {result.first_error})" if result.errors else ""
            log(
                f"  {into:<5} {group.name:<24} {result.rate:8.1f}/s  p50 {result.percentile_ms(50):7.1f} ms"
                f"  p99 {result.percentile_ms(99):7.1f} ms{errors}"
            )

        groups = {
            "wrong_code": lambda: load.Group("wrong_code", clients, site.wrong_guess, setup=site.guesser),
            "api_wrong_code": lambda: load.Group(
                "api_wrong_code", clients, site.api_wrong_guess, setup=site.api_guesser
            ),
            "verification": lambda: load.Group("verification", clients, site.verification),
            "send_0ms": lambda: load.Group("send_0ms", clients, site.send, setup=site.visit),
            "phone_get": lambda: load.Group("phone_get", clients, site.phone_page, setup=site.visit),
        }
        for round_ in range(rounds):
            log(f"round {round_ + 1} of {rounds}")
            phase(
                "floor",
                middleware_floor.port,
                load.Group("middleware_floor_write", clients, flows.floor_write, setup=flows.csrf_cookie),
            )
            phase("floor", middleware_floor.port, load.Group("middleware_floor_page", clients, flows.floor_page))
            order = ["A", "B"] if round_ % 2 == 0 else ["B", "A"]
            for name in PHASES:
                for which in order:
                    phase(which, sites[which].port, groups[name]())
    finally:
        for server in started:
            server.stop()
        provider.stop()
        for url in made:
            drop_database(url)
    return render(checkouts, results, counts, rounds, seconds, clients, database_url, load_before)


def render(checkouts, results, counts, rounds, seconds, clients, database_url, load_before) -> str:
    """Return the A/B report: one table, A and B side by side, each against the same floor."""
    conf = gunicorn_settings()
    floor = results["floor"]
    write = floor["middleware_floor_write"].rate
    page = floor["middleware_floor_page"].rate
    a, b = results["A"], results["B"]

    def rate_row(measure, name, base, share, least):
        ra, rb = a[name].rate / (base / share), b[name].rate / (base / share)
        verdict = "yes" if rb >= least else "NO"
        return [
            measure,
            _n(a[name].rate),
            _r(ra),
            _n(b[name].rate),
            _r(rb),
            f"≥ {least:.2f} of {'one-row POST' if share == 1 else 'one-row POST ÷ 4'}"
            if base is write
            else f"≥ {least:.2f} of template GET",
            verdict,
        ]

    def latency_rows(measure, name):
        pa50, pa99 = a[name].percentile_ms(50), a[name].percentile_ms(99)
        pb50, pb99 = b[name].percentile_ms(50), b[name].percentile_ms(99)
        return [
            [f"{measure} p50 ms", _n(pa50), "", _n(pb50), "", "", ""],
            [
                f"{measure} p99 ms",
                _n(pa99),
                _r(pa99 / pa50) + "× p50",
                _n(pb99),
                _r(pb99 / pb50) + "× p50",
                "≤ 3× p50" if name == "verification" else "",
                ("yes" if pb99 <= 3 * pb50 else "NO") if name == "verification" else "",
            ],
        ]

    # What the rules need (see BENCHMARKS.md): the claim's transaction (9 statements with BEGIN and COMMIT: the
    # row, the brake's pause and tally, the counts, the limits' rows, the tally's upsert, the row's write), the
    # store's (5: the code, the SentMessage, the audit event) and Django's session (4). PostgreSQL adds the two
    # advisory-lock statements (the brake's range, the limits' keys).
    most_per_send = 18 if is_sqlite(database_url) else 20
    rows = [
        rate_row("complete verifications/s", "verification", write, 4, 0.5),
        *latency_rows("verification", "verification"),
        rate_row("wrong-code POST/s", "wrong_code", write, 1, 0.7),
        *latency_rows("wrong-code POST", "wrong_code"),
        rate_row("API wrong-code check/s", "api_wrong_code", write, 1, 0.7),
        *latency_rows("API wrong-code check", "api_wrong_code"),
        rate_row("sends/s, 0 ms provider", "send_0ms", write, 1, 0.3),
        *latency_rows("send", "send_0ms"),
        rate_row("phone page GET/s", "phone_get", page, 1, 0.85),
        [
            "SQL statements per send",
            str(counts["A"]["send"]),
            "",
            str(counts["B"]["send"]),
            "",
            f"≤ {most_per_send}",
            "yes" if counts["B"]["send"] <= most_per_send else "NO",
        ],
        [
            "SQL statements per wrong code",
            str(counts["A"]["wrong_code"]),
            "",
            str(counts["B"]["wrong_code"]),
            "",
            "≤ 6",
            "yes" if counts["B"]["wrong_code"] <= 6 else "NO",
        ],
        [
            "SQL statements per right code",
            str(counts["A"]["right_code"]),
            "",
            str(counts["B"]["right_code"]),
            "",
            "–",
            "",
        ],
    ]
    lines = [
        f"- A/B run: {machine(database_url)}",
        f"- A = {checkouts['A'].name} (before), B = {checkouts['B'].name} (after); {rounds} rounds × {seconds:g} s "
        f"per phase and side, interleaved (A first in odd rounds); {clients} clients; {conf['worker_class']}, "
        f"{conf['workers']} workers × {conf['threads']} threads",
        f"- middleware floor: one-row POST {write:,.0f}/s, template GET {page:,.0f}/s (measured in every round)",
        f"- load average before/after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}",
        "",
        "| measure | A | A ratio | B | B ratio | target | B meets it |",
        "|---|--:|--:|--:|--:|---|---|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    errors = [
        f"- ERRORS {side} {r.name}: {r.errors}, first: {r.first_error}"
        for side in ("A", "B", "floor")
        for r in results[side].values()
        if r.errors
    ]
    return "\n".join([*lines, "", *errors])


def _n(value: float) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _r(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"
