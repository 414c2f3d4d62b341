"""What runs on each host of the topology: PostgreSQL and Redis, gunicorn with the site, nginx with deploy/."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import ROOT, environ_without_settings
from tests.topology.network import SUBNET, Network, run

DEPLOY = ROOT / "deploy"
#: The public name the test's site answers to.
SITE_NAME = "verify.test"
#: The deploy files' stand-ins for a real site, replaced by the test's.
EXAMPLE_NAME = "verify.example.com"
EXAMPLE_STATIC_ROOT = "/srv/otp/staticfiles/"
EXAMPLE_UPSTREAM = re.compile(r"^(\s*)server 10\.0\.0\.\d+:8000( .*)$", re.MULTILINE)
APP_PORT = 8000
PG_PORT = 5432
REDIS_PORT = 6379


def require(program: str, package: str) -> str:
    """Return a program's path, or fail saying which Debian package gives it."""
    path = shutil.which(program)
    if path is None:
        raise RuntimeError(f"{program} is missing: apt-get install {package} (`make nginx` installs nginx)")
    return path


def postgres_bin() -> Path:
    """Return the newest installed PostgreSQL's binaries folder."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is missing: apt-get install postgresql")
    return found[-1].parent


def wait_until(ready, what: str, timeout: float = 60.0) -> None:
    """Poll `ready()` until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} was not ready after {timeout} s")
        time.sleep(0.1)


class Database:
    """PostgreSQL on its own data folder, run as the postgres user in the data host's namespace."""

    def __init__(self, net: Network, host: str, folder: Path) -> None:
        self.net, self.host, self.folder = net, host, folder / "postgres"
        self.address = net.addresses[host]
        self.bin = postgres_bin()
        self.url = f"postgres://postgres@{self.address}:{PG_PORT}/otp"

    def _as_postgres(self, program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        command = self.net.command(self.host, "runuser", "-u", "postgres", "--", str(self.bin / program), *args)
        return run(*command, **kwargs)

    def create(self) -> None:
        self.folder.mkdir()
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.folder), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(self.folder / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {SUBNET} trust\n")
        self.start()
        self._as_postgres("createdb", "-h", str(self.folder), "-p", str(PG_PORT), "otp")

    def start(self) -> None:
        # Durability is not what this test is about; fsync off keeps a slow disk from being the bottleneck.
        options = f"-h {self.address} -p {PG_PORT} -k {self.folder} -c fsync=off -c max_connections=200"
        self._as_postgres(
            "pg_ctl", "-D", str(self.folder), "-l", str(self.folder / "log"), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.folder), "-m", "fast", "-w", "stop")

    def query(self, sql: str) -> list[list[str]]:
        """Return the rows of a query, each a list of its columns as text."""
        out = self._as_postgres(
            "psql", "-h", str(self.folder), "-p", str(PG_PORT), "-d", "otp", "-AtF", "\t", "-c", sql
        )
        return [line.split("\t") for line in out.stdout.splitlines() if line]


class Cache:
    """Redis with no persistence, in the data host's namespace."""

    def __init__(self, net: Network, host: str, folder: Path) -> None:
        self.net, self.host, self.folder = net, host, folder
        self.address = net.addresses[host]
        self.url = f"redis://{self.address}:{REDIS_PORT}/0"

    def start(self) -> subprocess.Popen:
        server = require("redis-server", "redis-server")
        with open(self.folder / "redis.log", "w") as log:
            process = subprocess.Popen(
                self.net.command(self.host, server, "--bind", self.address, "--port", str(REDIS_PORT), "--save", "")
                + ["--appendonly", "no", "--protected-mode", "no", "--dir", str(self.folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        cli = require("redis-cli", "redis-tools")
        ping = self.net.command(self.host, cli, "-h", self.address, "-p", str(REDIS_PORT), "ping")
        wait_until(lambda: subprocess.run(ping, capture_output=True, text=True).stdout.strip() == "PONG", "Redis")
        return process


class AppHosts:
    """The site under gunicorn on each app host, with the systemd unit's settings and a shared SMS outbox."""

    def __init__(self, net: Network, folder: Path, database: Database, cache: Cache, proxy: str) -> None:
        self.net, self.folder = net, folder
        self.outbox = folder / "sms"
        self.twilio_auth_token = secrets.token_hex(16)
        self.environ = environ_without_settings(
            **unit_environment(),
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS=SITE_NAME,
            DJANGO_CSRF_TRUSTED_ORIGINS=f"https://{SITE_NAME}",
            DATABASE_URL=database.url,
            CACHE_URL=cache.url,
            FORWARDED_ALLOW_IPS=net.addresses[proxy],
            # Both hosts write the codes into one folder, which the client host reads (the SMS a phone receives).
            SMS_BACKEND="verification.sms.backends.filebased.SmsBackend",
            SMS_FILE_PATH=str(self.outbox),
            TWILIO_AUTH_TOKEN=self.twilio_auth_token,
            TWILIO_STATUS_CALLBACK_URL=f"https://{SITE_NAME}/sms/status/",
            # The throughput runs send far more than the site-wide default (500 an hour); every other limit is
            # the default, the per-IP one included: each visitor of the runs comes from an address of its own.
            OTP_SEND_BUDGET="1000000/1h",
        )
        self.processes: dict[str, subprocess.Popen] = {}
        #: Where each host's log was when errors were last excused (a database outage logs tracebacks on purpose).
        self.log_read_from: dict[str, int] = {}

    def migrate(self, host: str) -> None:
        command = self.net.command(host, sys.executable, "manage.py", "migrate", "--noinput")
        run(*command, cwd=ROOT, env=self.environ)

    def start(self, host: str) -> None:
        environ = {
            **self.environ,
            "GUNICORN_BIND": f"{self.net.addresses[host]}:{APP_PORT}",
            "GUNICORN_ACCESS_LOG": str(self.access_log(host)),
            # Inside the run's folder, so a host killed by SIGKILL leaves nothing behind after the run.
            "PROMETHEUS_MULTIPROC_DIR": str(self.folder / f"{host}-metrics"),
            # The unit's /run/otp is not made here; the hosts share this machine's file system.
            "GUNICORN_CONTROL_SOCKET": str(self.folder / f"{host}.ctl"),
        }
        log = self.folder / f"{host}.log"
        with open(log, "w") as out:
            self.processes[host] = subprocess.Popen(
                self.net.command(
                    host, sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "otpsite.wsgi"
                ),
                cwd=ROOT,
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: log.read_text().count("Booting worker") >= 2, f"gunicorn on {host}")

    def access_log(self, host: str) -> Path:
        return self.folder / f"{host}-access.log"

    def requests_served(self, host: str) -> int:
        """Return how many requests a host's gunicorn logged (successful /healthz probes are not logged)."""
        path = self.access_log(host)
        return len(path.read_text().splitlines()) if path.exists() else 0

    def logged(self, text: str) -> list[str]:
        """Return the access-log lines of either host that contain `text`."""
        lines = []
        for host in self.processes:
            path = self.access_log(host)
            if path.exists():
                lines += [line for line in path.read_text().splitlines() if text in line]
        return lines

    def errors(self) -> list[str]:
        """Return the tracebacks the hosts logged since errors were last excused."""
        found = []
        for host in self.processes:
            with open(self.folder / f"{host}.log", "rb") as log:
                log.seek(self.log_read_from.get(host, 0))
                text = log.read().decode(errors="replace")
            # One record per log line, with the traceback (all its chained parts) that follows it.
            records = re.split(r"\n(?=\[?\d{4}-\d\d-\d\d )", text)
            found += [record for record in records if "Traceback" in record]
        return found

    def excuse_errors(self) -> list[str]:
        """Return the tracebacks logged so far, and leave them out of `errors()` from now on."""
        found = self.errors()
        for host in self.processes:
            self.log_read_from[host] = (self.folder / f"{host}.log").stat().st_size
        return found


def unit_environment() -> dict[str, str]:
    """Return the settings deploy/otp-gunicorn.service gives gunicorn (its Environment= lines)."""
    unit = (DEPLOY / "otp-gunicorn.service").read_text()
    return dict(line.split("=", 2)[1:] for line in unit.splitlines() if line.startswith("Environment="))


def site_config(upstreams: list[str], certificate: Path, key: Path) -> str:
    """Return deploy/nginx/otp.conf with the test's name, certificate, static folder and app hosts."""
    text = (DEPLOY / "nginx" / "otp.conf").read_text()
    replacements = [
        (f"/etc/letsencrypt/live/{EXAMPLE_NAME}/fullchain.pem", str(certificate)),
        (f"/etc/letsencrypt/live/{EXAMPLE_NAME}/privkey.pem", str(key)),
        (EXAMPLE_NAME, SITE_NAME),
        (EXAMPLE_STATIC_ROOT, f"{ROOT / 'staticfiles'}/"),
    ]
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"deploy/nginx/otp.conf no longer has {old!r}: update tests/topology/hosts.py")
        text = text.replace(old, new)
    servers = list(EXAMPLE_UPSTREAM.finditer(text))
    if not servers:
        raise AssertionError("deploy/nginx/otp.conf has no `server 10.0.0.x:8000` upstream line")
    indent, options = servers[0].group(1), servers[0].group(2)
    ours = "\n".join(f"{indent}server {address}:{APP_PORT}{options}" for address in upstreams)
    text = text[: servers[0].start()] + ours + text[servers[-1].end() :]
    return text


class Proxy:
    """nginx in the edge host's namespace: Debian's binary, this run's main file, deploy/'s site file."""

    def __init__(self, net: Network, host: str, folder: Path) -> None:
        self.net, self.host, self.folder = net, host, folder / "nginx"
        self.address = net.addresses[host]

    def start(self, upstreams: list[str]) -> subprocess.Popen:
        nginx = require("nginx", "nginx")
        self.folder.mkdir()
        certificate, key = self.folder / "cert.pem", self.folder / "key.pem"
        openssl = require("openssl", "openssl")
        run(
            *[openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
            *["-keyout", str(key), "-out", str(certificate), "-days", "2", "-subj", f"/CN={SITE_NAME}"],
        )
        (self.folder / "otp.conf").write_text(site_config(upstreams, certificate, key))
        # Debian's nginx.conf, minus what would write outside this run's folder.
        main = f"""
user www-data;
worker_processes auto;
pid {self.folder}/nginx.pid;
error_log {self.folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.folder}/access.log;
    gzip on;
    client_body_temp_path {self.folder}/body;
    proxy_temp_path {self.folder}/proxy;
    fastcgi_temp_path {self.folder}/fastcgi;
    uwsgi_temp_path {self.folder}/uwsgi;
    scgi_temp_path {self.folder}/scgi;
    include {self.folder}/otp.conf;
}}
"""
        (self.folder / "nginx.conf").write_text(main)
        config = ["-c", str(self.folder / "nginx.conf"), "-p", str(self.folder)]
        run(*self.net.command(self.host, nginx, "-t", *config))
        with open(self.folder / "stderr.log", "w") as log:
            return subprocess.Popen(
                self.net.command(self.host, nginx, *config, "-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=log
            )
