"""The bench's report: the machine, then one markdown table of figures with their ratios and targets."""

from __future__ import annotations

import datetime
import math
import os
import platform
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

from bench.load import Result
from bench.servers import gunicorn_settings

#: Figure 4: a million stored numbers may cost at most this much more than an empty table.
BIG_TABLE_TOLERANCE = 0.10


@dataclass(frozen=True)
class Row:
    figure: str
    measure: str
    site: float
    versus: str  # what the site is compared with
    base: float | None
    site_big: float
    base_big: float | None
    target: str = ""
    #: Whether the ratio meets the target; None when the row has no target on the ratio.
    ratio_ok: bool | None = None
    ratio_ok_big: bool | None = None
    #: True when a higher figure is better (rates), False for latencies, None when the table size is not judged.
    higher_is_better: bool | None = True

    @property
    def ratio(self) -> float | None:
        return self.site / self.base if self.base else None

    @property
    def ratio_big(self) -> float | None:
        return self.site_big / self.base_big if self.base_big else None

    @property
    def big_vs_small(self) -> float | None:
        """Return the 1M figure over the empty-table figure, each taken relative to its own floor when it has one."""
        if self.ratio and self.ratio_big:
            return self.ratio_big / self.ratio
        return self.site_big / self.site if self.site else None

    @property
    def big_ok(self) -> bool | None:
        change = self.big_vs_small
        if self.higher_is_better is None or change is None:
            return None
        if self.higher_is_better:
            return change >= 1 - BIG_TABLE_TOLERANCE
        return change <= 1 + BIG_TABLE_TOLERANCE


def rows(small: dict[str, Result], big: dict[str, Result], memory: dict[str, float], delay: float) -> list[Row]:
    """Return the figures of the table."""
    conf = gunicorn_settings()
    ceiling = conf["workers"] * conf["threads"] / delay

    def rate(results: dict[str, Result], name: str) -> float:
        return results[name].rate

    def p(results: dict[str, Result], name: str, q: float) -> float:
        return results[name].percentile_ms(q)

    def at_least(value: float | None, floor: float) -> bool | None:
        return None if value is None else value >= floor

    wrong = Row(
        "2",
        "wrong-code POST/s",
        rate(small, "wrong_code"),
        "floor one-row POST/s",
        rate(small, "floor_write"),
        rate(big, "wrong_code"),
        rate(big, "floor_write"),
        "≥ 0.60 of floor",
    )
    api_wrong = Row(
        "2",
        "API wrong-code check/s",
        rate(small, "api_wrong_code"),
        "floor one-row POST/s",
        rate(small, "floor_write"),
        rate(big, "api_wrong_code"),
        rate(big, "floor_write"),
        "≥ 0.60 of floor",
    )
    page = Row(
        "2",
        "phone page GET/s",
        rate(small, "phone_get"),
        "floor template GET/s",
        rate(small, "floor_page"),
        rate(big, "phone_get"),
        rate(big, "floor_page"),
        "≥ 0.70 of floor",
    )
    slow = Row(
        "3",
        f"sends/s, {delay * 1000:.0f} ms provider",
        rate(small, "send_slow"),
        f"threads ÷ {delay:g} s",
        ceiling,
        rate(big, "send_slow"),
        ceiling,
        "≥ 20/s",
    )
    busy = Row(
        "3",
        "phone GET p99 ms during slow sends",
        p(small, "probe_busy", 99),
        "phone GET p99 ms, idle",
        p(small, "probe_idle", 99),
        p(big, "probe_busy", 99),
        p(big, "probe_idle", 99),
        "≤ 2× idle",
        higher_is_better=None,
    )
    return [
        Row(
            "1",
            "complete verifications/s",
            rate(small, "verification"),
            "floor one-row POST/s ÷ 4",
            rate(small, "floor_write") / 4,
            rate(big, "verification"),
            rate(big, "floor_write") / 4,
        ),
        Row(
            "1",
            "verification p50 ms",
            p(small, "verification", 50),
            "",
            None,
            p(big, "verification", 50),
            None,
            higher_is_better=False,
        ),
        Row(
            "1",
            "verification p99 ms",
            p(small, "verification", 99),
            "",
            None,
            p(big, "verification", 99),
            None,
            higher_is_better=False,
        ),
        _judged(wrong, 0.60),
        _judged(api_wrong, 0.60),
        _judged(page, 0.70),
        Row(
            "3",
            "sends/s, 0 ms provider",
            rate(small, "send_0ms"),
            "floor one-row POST/s",
            rate(small, "floor_write"),
            rate(big, "send_0ms"),
            rate(big, "floor_write"),
        ),
        replace(slow, ratio_ok=at_least(slow.site, 20), ratio_ok_big=at_least(slow.site_big, 20)),
        replace(busy, ratio_ok=_at_most(busy.ratio, 2), ratio_ok_big=_at_most(busy.ratio_big, 2)),
        Row(
            "5",
            "peak RSS per worker, MiB",
            memory["site"],
            "floor worker",
            memory["floor"],
            memory["site_big"],
            memory["floor"],
            higher_is_better=None,
        ),
    ]


def _judged(row: Row, least: float) -> Row:
    """Return the row with its ratios checked against a least acceptable ratio."""
    return replace(
        row,
        ratio_ok=None if row.ratio is None else row.ratio >= least,
        ratio_ok_big=None if row.ratio_big is None else row.ratio_big >= least,
    )


def _at_most(value: float | None, most: float) -> bool | None:
    return None if value is None or math.isnan(value) else value <= most


def _num(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}"


def _verdict(*checks: bool | None) -> str:
    judged = [c for c in checks if c is not None]
    if not judged:
        return "–"
    return "yes" if all(judged) else "NO"


def _count(numbers: int) -> str:
    return f"{numbers // 1_000_000}M" if numbers and numbers % 1_000_000 == 0 else f"{numbers:,}"


def table(all_rows: list[Row], numbers: int) -> str:
    """Return the figures as a markdown table; `numbers` is how many numbers the big table held."""
    big = _count(numbers)
    lines = [
        f"| fig | measure | site | compared with | value | ratio | site, {big} numbers | ratio, {big} | {big} vs empty "
        f"| target | target met | {big} within {BIG_TABLE_TOLERANCE:.0%} |",
        "|---|---|--:|---|--:|--:|--:|--:|--:|---|---|---|",
    ]
    for r in all_rows:
        lines.append(
            f"| {r.figure} | {r.measure} | {_num(r.site)} | {r.versus or '–'} | {_num(r.base)} | {_ratio(r.ratio)} "
            f"| {_num(r.site_big)} | {_ratio(r.ratio_big)} | {_ratio(r.big_vs_small)} | {r.target or '–'} "
            f"| {_verdict(r.ratio_ok, r.ratio_ok_big)} | {_verdict(r.big_ok)} |"
        )
    return "\n".join(lines)


def machine(database_url: str) -> str:
    """Return one line describing the machine and software."""
    import django
    import gunicorn

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if database_url.startswith(("postgres", "pgsql")):
        import psycopg

        with psycopg.connect(database_url) as conn:
            database = "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]
    else:
        database = f"SQLite {sqlite3.sqlite_version}"
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, Django {django.get_version()}, "
        f"gunicorn {gunicorn.__version__}, {database}"
    )


def notes(small: dict[str, Result], big: dict[str, Result]) -> list[str]:
    """Return lines about errors and outcomes, so a fast but failing run cannot pass for a good one."""
    lines = []
    for label, results in (("empty table", small), ("big table", big)):
        for result in results.values():
            if result.errors:
                lines.append(f"- ERRORS ({label}) {result.name}: {result.errors}, first: {result.first_error}")
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(results["wrong_code"].outcomes.items()))
        api = ", ".join(f"{k} {v}" for k, v in sorted(results["api_wrong_code"].outcomes.items()))
        lines.append(
            f"- {label}: wrong-code answers: {outcomes}; API: {api}; idle/busy probe samples: "
            f"{results['probe_idle'].count}/{results['probe_busy'].count}"
        )
    return lines


def render(cfg, database_url, small, big, memory, load_before, load_after) -> str:
    """Return the whole report."""
    conf = gunicorn_settings()
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        f"- run: {now}; {machine(database_url)}",
        f"- gunicorn.conf.py: {conf['worker_class']}, {conf['workers']} workers × {conf['threads']} threads; "
        f"{cfg.clients} clients, {cfg.seconds:g} s per phase after {cfg.warmup:g} s warm-up",
        f"- load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}",
        "",
    ]
    return "\n".join([*head, table(rows(small, big, memory, cfg.provider_delay), cfg.numbers), "", *notes(small, big)])
