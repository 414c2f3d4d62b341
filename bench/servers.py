"""Fresh databases and the gunicorn servers (site and floors) started with the project's gunicorn.conf.py."""

from __future__ import annotations

import hashlib
import os
import runpy
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.http_client import HttpClient

ROOT = Path(__file__).resolve().parent.parent
#: Seeded databases kept between runs (git-ignored): seeding a million rows once is enough.
CACHE = ROOT / ".bench-cache"
# GUNICORN_* passes through: gunicorn.conf.py reads it for both servers alike.
APP_PREFIXES = ("DJANGO_", "OTP_", "SMS_", "TWILIO_")
#: Far above anything the bench sends, so the send limits of the site never throttle the load (unread if absent).
UNLIMITED_RATE = "1000000000/1s"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_settings() -> dict:
    """Return the settings gunicorn.conf.py gives in this environment (both servers get the same)."""
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def base_environ(**extra: str) -> dict[str, str]:
    """Return this environment without the site's settings variables (a local .env cannot override them), plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(APP_PREFIXES)}
    env.update(extra)
    return env


def _maintenance_url(database_url: str) -> str:
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


def _pg_url(database_url: str, name: str) -> str:
    return urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))


def _pg_name(database_url: str, suffix: str) -> str:
    return f"{urlsplit(database_url).path.lstrip('/') or 'postgres'}_bench_{suffix}"


def is_sqlite(database_url: str) -> bool:
    return not database_url or database_url.startswith("sqlite")


def fresh_database(database_url: str, workdir: Path, role: str, template: str | None = None) -> str:
    """Return the URL of a new database for `role`: a SQLite file in workdir, or a PostgreSQL database
    next to database_url's; a copy of `template` (a database made by seeded_template) when given."""
    if is_sqlite(database_url):
        path = workdir / f"{role}.sqlite3"
        if template:
            shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    import psycopg

    name = _pg_name(database_url, role)
    with psycopg.connect(_maintenance_url(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return _pg_url(database_url, name)


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database made by fresh_database; SQLite files go with their folder."""
    if is_sqlite(url):
        return
    import psycopg

    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


def seed_key(count: int, seeder: str = "bench.seed") -> str:
    """Return a name for a seeded database that changes with the seeder, the count, the migrations and Django."""
    import django

    digest = hashlib.sha256(f"{count} {django.__version__}".encode())
    if seeder != "bench.seed":
        digest.update(seeder.encode() + (ROOT / f"{seeder.replace('.', '/')}.py").read_bytes())
    for migration in sorted((ROOT / "verification" / "migrations").glob("*.py")):
        digest.update(migration.read_bytes())
    return f"seeded_{count}_{digest.hexdigest()[:10]}"


def seeded_template(
    database_url: str, count: int, environ: Callable[[str], dict[str, str]], seeder: str = "bench.seed"
) -> tuple[str, float]:
    """Return a migrated database holding `count` seeded rows (made once, then reused) and the seconds spent.

    SQLite: a file in .bench-cache/; PostgreSQL: a database used as a template. `environ(url)` gives the site's
    environment for a database URL; `python -m <seeder> COUNT` seeds it.
    """
    key = seed_key(count, seeder)
    if is_sqlite(database_url):
        path = CACHE / f"{key}.sqlite3"
        if path.exists():
            return str(path), 0.0
        CACHE.mkdir(exist_ok=True)
        building = CACHE / f"{key}.building.sqlite3"
        for leftover in CACHE.glob(f"{building.name}*"):
            leftover.unlink()
        url, keep = f"sqlite:///{building}", str(path)
    else:
        import psycopg

        name = _pg_name(database_url, key)
        with psycopg.connect(_maintenance_url(database_url), autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return name, 0.0
        url, keep = fresh_database(database_url, CACHE, f"{key}_building"), name
    started = time.perf_counter()
    env = environ(url)
    manage(env, "migrate", "--noinput")
    result = subprocess.run(
        [sys.executable, "-m", seeder, str(count)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"seeding failed:\n{result.stdout}{result.stderr}")
    # Renamed only when complete, so an interrupted seeding is never reused.
    if is_sqlite(database_url):
        os.replace(building, keep)
    else:
        with psycopg.connect(_maintenance_url(database_url), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{_pg_name(database_url, key + "_building")}" RENAME TO "{keep}"')
    return keep, time.perf_counter() - started


def site_environ(database_url: str, twilio: dict[str, str]) -> dict[str, str]:
    """Return the environment the site runs with in the bench: production mode, plain HTTP behind a 'proxy'."""
    return base_environ(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + os.urandom(24).hex(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
        SMS_BACKEND="verification.sms.backends.twilio.SmsBackend",
        TWILIO_TIMEOUT_SECONDS="10",
        # Every wrong guess takes the counting path (a row write), the costliest wrong-code answer.
        OTP_MAX_ATTEMPTS="1000000000",
        # A code stays live for the whole run, so a client can guess on one number throughout.
        OTP_TTL_SECONDS="3600",
        OTP_SEND_LIMITS_PER_IP=UNLIMITED_RATE,
        OTP_SEND_LIMITS_PER_NUMBER=UNLIMITED_RATE,
        OTP_SEND_LIMITS_PER_SESSION=UNLIMITED_RATE,
        OTP_SEND_BUDGET=UNLIMITED_RATE,
        OTP_PUMPING_MIN_SENDS="1000000000",
        # The sign-in phase signs in a new number each time: sign-up makes its account.
        OTP_SIGN_UP="true",
        **twilio,
    )


def floor_environ(database_url: str) -> dict[str, str]:
    """Return the floor's environment: the same variables the site's DATABASES reads."""
    return base_environ(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + os.urandom(24).hex(),
        DJANGO_SETTINGS_MODULE="bench.floor.settings",
        DATABASE_URL=database_url,
    )


def middleware_floor_environ(database_url: str) -> dict[str, str]:
    """Return the middleware floor's environment: the site's own settings module underneath, in production mode."""
    return dict(floor_environ(database_url), DJANGO_SETTINGS_MODULE="bench.floor.site_settings")


def manage(env: dict[str, str], *args: str, root: Path = ROOT) -> None:
    """Run a Django management command with env (its settings module included) in checkout `root`; fail loudly."""
    settings = env.get("DJANGO_SETTINGS_MODULE", "otpsite.settings")
    result = subprocess.run(
        [sys.executable, "-m", "django", *args, "--settings", settings],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"django-admin {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


class Gunicorn:
    """A gunicorn master serving `wsgi_module` with gunicorn.conf.py on a free port (from checkout `root`)."""

    def __init__(self, name: str, wsgi_module: str, env: dict[str, str], logdir: Path, root: Path = ROOT) -> None:
        self.name = name
        self.port = free_port()
        self.log = logdir / f"{name}-gunicorn.log"
        env = dict(env, GUNICORN_BIND=f"127.0.0.1:{self.port}", GUNICORN_ACCESS_LOG=str(logdir / f"{name}-access.log"))
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", wsgi_module],
                cwd=root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, path: str = "/", timeout: float = 60.0) -> None:
        """Return once every worker has booted and the server answers `path` with a 200."""
        deadline = time.monotonic() + timeout
        client = HttpClient("127.0.0.1", self.port, timeout=5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                if client.get(path).status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} gunicorn did not answer in {timeout:.0f}s:\n{self.log.read_text()[-3000:]}")

    @property
    def workers(self) -> int:
        return gunicorn_settings()["workers"]

    def worker_pids(self) -> list[int]:
        """Return the pids of the master's worker processes."""
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def peak_rss_mb(self) -> float:
        """Return the largest peak resident memory (VmHWM) of any worker, in MiB."""
        peaks = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks, default=0.0)

    def pss_mb(self) -> float:
        """Return the largest proportional memory (Pss: shared pages split among their users) of a worker, MiB."""
        sizes = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return max(sizes, default=0.0)

    def stop(self) -> None:
        """Stop gunicorn (graceful, then forced)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=35)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
