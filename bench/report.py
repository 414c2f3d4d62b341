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
#: Figure 5: the most a site worker may hold at its peak, in MiB.
MOST_RSS_MIB = 70


@dataclass(frozen=True)
class Row:
    figure: str
    measure: str
    site: float
    versus: str  # what the site is compared with
    #: The bare floor's figure (no middleware), when the row compares with floors.
    bare: float | None
    #: The figure the target reads: the middleware floor's, or the reference named in `versus`.
    base: float | None
    site_big: float
    base_big: float | None
    target: str = ""
    #: Whether the row meets its target in each half; None when the row has no target.
    ok: bool | None = None
    ok_big: bool | None = None
    #: True when a higher figure is better (rates), False for latencies, None when the table size is not judged.
    higher_is_better: bool | None = True

    @property
    def bare_ratio(self) -> float | None:
        return self.site / self.bare if self.bare else None

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
    """Return the figures of the table; the targets read the middleware floor, the bare floor is shown beside it."""
    conf = gunicorn_settings()
    ceiling = conf["workers"] * conf["threads"] / delay

    def rate(results: dict[str, Result], name: str, share: float = 1) -> float:
        return results[name].rate / share

    def p(results: dict[str, Result], name: str, q: float) -> float:
        return results[name].percentile_ms(q)

    def against_floors(figure, measure, site, floor, versus, *, share=1, least=None, higher_is_better=True) -> Row:
        row = Row(
            figure,
            measure,
            rate(small, site),
            versus,
            rate(small, f"floor_{floor}", share),
            rate(small, f"middleware_floor_{floor}", share),
            rate(big, site),
            rate(big, f"middleware_floor_{floor}", share),
            f"≥ {least:.2f} of middleware floor" if least else "",
            higher_is_better=higher_is_better,
        )
        if least is None:
            return row
        return replace(row, ok=_at_least(row.ratio, least), ok_big=_at_least(row.ratio_big, least))

    def latency(measure: str, q: float) -> Row:
        return Row(
            "1",
            measure,
            p(small, "verification", q),
            "",
            None,
            None,
            p(big, "verification", q),
            None,
            higher_is_better=False,
        )

    slow = Row(
        "3",
        f"sends/s, {delay * 1000:.0f} ms provider",
        rate(small, "send_slow"),
        f"workers × threads ÷ {delay:g} s",
        None,
        ceiling,
        rate(big, "send_slow"),
        ceiling,
        "≥ 0.80 of that",
    )
    busy = Row(
        "3",
        "phone GET p99 ms during slow sends",
        p(small, "probe_busy", 99),
        "phone GET p99 ms, idle",
        None,
        p(small, "probe_idle", 99),
        p(big, "probe_busy", 99),
        p(big, "probe_idle", 99),
        "≤ 2× idle",
        higher_is_better=None,
    )
    rss = Row(
        "5",
        "peak RSS per worker, MiB",
        memory["site"],
        "floor workers",
        memory["floor"],
        memory["middleware_floor"],
        memory["site_big"],
        memory["middleware_floor"],
        f"≤ {MOST_RSS_MIB} MiB",
        ok=memory["site"] <= MOST_RSS_MIB,
        ok_big=memory["site_big"] <= MOST_RSS_MIB,
        higher_is_better=None,
    )
    pss = Row(
        "5",
        "memory per worker at the end, PSS MiB",
        memory["site_pss"],
        "floor workers",
        memory["floor_pss"],
        memory["middleware_floor_pss"],
        memory["site_big_pss"],
        memory["middleware_floor_pss"],
        higher_is_better=None,
    )
    return [
        against_floors(
            "1", "complete verifications/s", "verification", "write", "one-row POST/s ÷ 4", share=4, least=0.5
        ),
        latency("verification p50 ms", 50),
        latency("verification p99 ms", 99),
        against_floors("1", "complete sign-ins/s (with sign-up)", "sign_in", "write", "one-row POST/s ÷ 4", share=4),
        against_floors("2", "wrong-code POST/s", "wrong_code", "write", "one-row POST/s", least=0.7),
        against_floors("2", "API wrong-code check/s", "api_wrong_code", "write", "one-row POST/s", least=0.7),
        against_floors("2", "phone page GET/s", "phone_get", "page", "template GET/s", least=0.85),
        against_floors("3", "sends/s, 0 ms provider", "send_0ms", "write", "one-row POST/s"),
        replace(slow, ok=_at_least(slow.ratio, 0.8), ok_big=_at_least(slow.ratio_big, 0.8)),
        replace(busy, ok=_at_most(busy.ratio, 2), ok_big=_at_most(busy.ratio_big, 2)),
        rss,
        pss,
    ]


def _at_least(value: float | None, least: float) -> bool | None:
    return None if value is None or math.isnan(value) else value >= least


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
        f"| fig | measure | site | compared with | bare floor | ratio | middleware floor or reference | ratio "
        f"| site, {big} numbers | ratio, {big} | {big} vs empty | target | target met "
        f"| {big} within {BIG_TABLE_TOLERANCE:.0%} |",
        "|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|---|---|---|",
    ]
    for r in all_rows:
        lines.append(
            f"| {r.figure} | {r.measure} | {_num(r.site)} | {r.versus or '–'} "
            f"| {_num(r.bare)} | {_ratio(r.bare_ratio)} | {_num(r.base)} | {_ratio(r.ratio)} "
            f"| {_num(r.site_big)} | {_ratio(r.ratio_big)} "
            f"| {_ratio(r.big_vs_small)} | {r.target or '–'} | {_verdict(r.ok, r.ok_big)} | {_verdict(r.big_ok)} |"
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
        lines.append(
            f"- {label}: wrong-code answers: {outcomes}; idle/busy probe samples: "
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
        f"{cfg.clients} clients ({cfg.slow_clients} while the provider is slow), {cfg.seconds:g} s per phase "
        f"after {cfg.warmup:g} s warm-up",
        f"- load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}",
        "",
    ]
    return "\n".join([*head, table(rows(small, big, memory, cfg.provider_delay), cfg.numbers), "", *notes(small, big)])
