"""Run the whole bench: the site and two floors under gunicorn, load from this process, a table of figures at the end.

    python -m bench [--seconds 10] [--clients 16] [--slow-clients N] [--numbers 1000000] [--output table.md]
    python -m bench --ab OTHER_CHECKOUT [--rounds 2] [--seconds 10]   (A/B: see bench/ab.py)

The floors are the same two views, once on bare Django and once behind the site's own settings (middleware,
sessions, templates); the targets read the second.

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
    gunicorn_settings,
    manage,
    middleware_floor_environ,
    seeded_template,
    site_environ,
)


@dataclass(frozen=True)
class Config:
    seconds: float
    clients: int
    #: Clients in the slow-provider phase: enough to fill the threads the ceiling counts, less one per worker.
    slow_clients: int
    numbers: int
    warmup: float
    provider_delay: float = 0.3
    probe_interval: float = 0.025


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(
    cfg: Config, site_port: int, floors: dict[str, int], site: Site, provider: BenchTwilio
) -> dict[str, load.Result]:
    """Run every phase once against a site and the floors (name -> port); return results by name."""
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

    for floor, port in floors.items():
        phase(port, load.Group(f"{floor}_page", clients, flows.floor_page))
    phase(site_port, load.Group("phone_get", clients, site.phone_page, setup=site.visit))
    phase(floors["floor"], load.Group("floor_write", clients, flows.floor_write))
    middleware_writer = load.Group("middleware_floor_write", clients, flows.floor_write, setup=flows.csrf_cookie)
    phase(floors["middleware_floor"], middleware_writer)
    phase(site_port, load.Group("wrong_code", clients, site.wrong_guess, setup=site.guesser))
    phase(site_port, load.Group("api_wrong_code", clients, site.api_wrong_guess, setup=site.api_guesser))
    phase(site_port, load.Group("verification", clients, site.verification))
    phase(site_port, load.Group("sign_in", clients, site.sign_in))
    phase(site_port, probe("probe_idle"), seconds=max(cfg.seconds / 2, 1))
    provider.delay = 0.0
    phase(site_port, load.Group("send_0ms", clients, site.send, setup=site.visit))
    provider.delay = cfg.provider_delay
    try:
        phase(site_port, load.Group("send_slow", cfg.slow_clients, site.send, setup=site.visit), probe("probe_busy"))
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
        middleware_floor_url = fresh_database(database_url, workdir, "middleware_floor")
        made += [site_url, floor_url, middleware_floor_url]
        small_env = site_environ(site_url, provider.site_environ())
        manage(small_env, "migrate", "--noinput")
        manage(small_env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(floor_environ(floor_url), "migrate", "--noinput")
        manage(middleware_floor_environ(middleware_floor_url), "migrate", "--noinput")
        template, seeding = seeded_template(
            database_url, cfg.numbers, lambda url: site_environ(url, provider.site_environ())
        )
        big_url = fresh_database(database_url, workdir, "app_big", template=template)
        made.append(big_url)
        if seeding:
            log(f"seeded {cfg.numbers:,} numbers in {seeding:.0f}s (kept for the next runs)")

        floor = serve("floor", "bench.floor.wsgi", floor_environ(floor_url))
        middleware_floor = serve(
            "middleware_floor", "bench.floor.site_wsgi", middleware_floor_environ(middleware_floor_url)
        )
        floors = {"floor": floor.port, "middleware_floor": middleware_floor.port}
        site_small = serve("site", "otpsite.wsgi", small_env)
        log(f"site with an empty table, floors (workers {site_small.workers}, {cfg.clients} clients)")
        small = measure(cfg, site_small.port, floors, site, provider)
        small_rss, small_pss = site_small.peak_rss_mb(), site_small.pss_mb()
        site_small.stop()

        site_big = serve("site_big", "otpsite.wsgi", site_environ(big_url, provider.site_environ()))
        log(f"site with {cfg.numbers:,} numbers stored, floors")
        big = measure(cfg, site_big.port, floors, site, provider)
        memory = {
            "site": small_rss,
            "site_big": site_big.peak_rss_mb(),
            "floor": floor.peak_rss_mb(),
            "middleware_floor": middleware_floor.peak_rss_mb(),
            "site_pss": small_pss,
            "site_big_pss": site_big.pss_mb(),
            "floor_pss": floor.pss_mb(),
            "middleware_floor_pss": middleware_floor.pss_mb(),
        }
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
    parser.add_argument(
        "--slow-clients",
        type=int,
        default=int(os.environ.get("BENCH_SLOW_CLIENTS", 0)) or None,
        help="clients while the provider is slow (default: workers × threads − workers)",
    )
    parser.add_argument("--numbers", type=int, default=int(os.environ.get("BENCH_NUMBERS", 1_000_000)))
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--ab", type=Path, metavar="CHECKOUT", help="A/B: measure CHECKOUT (A) and this one (B) interleaved"
    )
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 2)), help="A/B rounds")
    args = parser.parse_args(argv)
    if args.ab:
        from bench import ab

        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="otp-bench-ab-") as workdir:
            text = ab.run(
                args.ab, args.rounds, args.seconds, args.clients, os.environ.get("DATABASE_URL", ""), Path(workdir)
            )
        log(f"A/B bench took {time.monotonic() - started:.0f}s")
        print(text)
        if args.output:
            args.output.write_text(text + "\n")
        return 0
    conf = gunicorn_settings()
    slow_clients = args.slow_clients or conf["workers"] * (conf["threads"] - 1)
    cfg = Config(args.seconds, args.clients, slow_clients, args.numbers, warmup=min(1.0, args.seconds / 4))
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
