"""Run the whole bench: floor and site under gunicorn, load from this process, a table of figures at the end.

    python -m bench [--seconds 10] [--clients 16] [--numbers 1000000] [--output table.md]

SQLite by default; PostgreSQL when DATABASE_URL says so (databases named after it, suffixed _bench_*).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import flows, load, report
from bench.flows import Site
from bench.provider import BenchTwilio
from bench.servers import (
    Gunicorn,
    drop_database,
    floor_environ,
    fresh_database,
    manage,
    seeded_template,
    site_environ,
)


@dataclass(frozen=True)
class Config:
    seconds: float
    clients: int
    numbers: int
    warmup: float
    provider_delay: float = 0.3
    probe_interval: float = 0.025


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(cfg: Config, site_port: int, floor_port: int, site: Site, provider: BenchTwilio) -> dict[str, load.Result]:
    """Run every phase once against a site and the floor; return results by name."""
    results: dict[str, load.Result] = {}
    clients = cfg.clients

    def phase(port: int, *groups: load.Group, seconds: float = cfg.seconds) -> None:
        done = load.run(port, list(groups), seconds, cfg.warmup)
        results.update(done)
        for result in done.values():
            errors = f", {result.errors} errors (first: {result.first_error})" if result.errors else ""
            log(f"  {result.name:<13} {result.rate:9.1f}/s  p99 {result.percentile_ms(99):7.1f} ms{errors}")

    def probe(name: str) -> load.Group:
        # One visitor reloading the phone page at a steady pace: its latency is what a person would feel.
        return load.Group(name, 1, site.phone_page, setup=site.visit, pace=cfg.probe_interval)

    phase(floor_port, load.Group("floor_page", clients, flows.floor_page))
    phase(site_port, load.Group("phone_get", clients, site.phone_page, setup=site.visit))
    phase(floor_port, load.Group("floor_write", clients, flows.floor_write))
    phase(site_port, load.Group("wrong_code", clients, site.wrong_guess, setup=site.guesser))
    phase(site_port, load.Group("api_wrong_code", clients, site.api_wrong_guess, setup=site.api_guesser))
    phase(site_port, load.Group("verification", clients, site.verification))
    phase(site_port, probe("probe_idle"), seconds=max(cfg.seconds / 2, 1))
    provider.delay = 0.0
    phase(site_port, load.Group("send_0ms", clients, site.send, setup=site.visit))
    provider.delay = cfg.provider_delay
    try:
        phase(site_port, load.Group("send_slow", clients, site.send, setup=site.visit), probe("probe_busy"))
    finally:
        provider.delay = 0.0
    return results


def run(cfg: Config, database_url: str, workdir: Path) -> str:
    """Run the bench and return the report (markdown)."""
    load_before = os.getloadavg()
    provider = BenchTwilio().start()
    site = Site(provider)
    started: list[Gunicorn] = []
    made: list[str] = []

    def serve(name: str, module: str, env: dict[str, str], ready_path: str = "/") -> Gunicorn:
        server = Gunicorn(name, module, env, workdir)
        started.append(server)
        server.wait_ready(ready_path)
        return server

    try:
        log("preparing databases")
        site_url = fresh_database(database_url, workdir, "app")
        floor_url = fresh_database(database_url, workdir, "floor")
        made += [site_url, floor_url]
        small_env = site_environ(site_url, provider.site_environ())
        manage(small_env, "migrate", "--noinput")
        manage(small_env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(floor_environ(floor_url), "migrate", "--noinput")
        template, seeding = seeded_template(
            database_url, cfg.numbers, lambda url: site_environ(url, provider.site_environ())
        )
        big_url = fresh_database(database_url, workdir, "app_big", template=template)
        made.append(big_url)
        if seeding:
            log(f"seeded {cfg.numbers:,} numbers in {seeding:.0f}s (kept for the next runs)")

        floor = serve("floor", "bench.floor.wsgi", floor_environ(floor_url))
        site_small = serve("site", "otpsite.wsgi", small_env)
        log(f"site with an empty table, floor (workers {site_small.workers}, {cfg.clients} clients)")
        small = measure(cfg, site_small.port, floor.port, site, provider)
        small_rss = site_small.peak_rss_mb()
        site_small.stop()

        site_big = serve("site_big", "otpsite.wsgi", site_environ(big_url, provider.site_environ()))
        log(f"site with {cfg.numbers:,} numbers stored, floor")
        big = measure(cfg, site_big.port, floor.port, site, provider)
        memory = {"site": small_rss, "site_big": site_big.peak_rss_mb(), "floor": floor.peak_rss_mb()}
    finally:
        for server in started:
            server.stop()
        provider.stop()
        for url in made:
            drop_database(url)
    return report.render(cfg, database_url, small, big, memory, load_before, os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("BENCH_CLIENTS", 16)))
    parser.add_argument("--numbers", type=int, default=int(os.environ.get("BENCH_NUMBERS", 1_000_000)))
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    cfg = Config(args.seconds, args.clients, args.numbers, warmup=min(1.0, args.seconds / 4))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="otp-bench-") as workdir:
        text = run(cfg, os.environ.get("DATABASE_URL", ""), Path(workdir))
    log(f"bench took {time.monotonic() - started:.0f}s")
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
