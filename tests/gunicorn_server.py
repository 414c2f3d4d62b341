"""Start the real app under gunicorn (gthread, two worker processes) against this run's test database."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from tests.conftest import environ_without_settings

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LiveApp:
    url: str
    outbox: Path
    log: list[str] = field(default_factory=list)

    def sms(self) -> list[str]:
        """Return the text of every SMS the workers wrote, oldest first."""
        return [path.read_text() for path in sorted(self.outbox.iterdir())] if self.outbox.exists() else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """Return a URL for the test database this run created, so gunicorn shares it."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def serve(tmp_path: Path, **env: str) -> Iterator[LiveApp]:
    """Run gunicorn with the filebased SMS backend and `env` on a free port until the block ends."""
    port = free_port()
    app = LiveApp(f"http://127.0.0.1:{port}", tmp_path / "sms")
    # The documented defaults, whatever a local .env or the calling environment says; `env` overrides them.
    pinned = {
        "CACHE_URL": "locmemcache://",
        "OTP_LENGTH": "6",
        "OTP_MAX_ATTEMPTS": "3",
        "OTP_RESEND_COOLDOWN_SECONDS": "120",
        "OTP_SEND_LIMITS_PER_NUMBER": "5/1h,10/1d",
        "OTP_SEND_LIMITS_PER_IP": "10/1h,50/1d",
        "OTP_SEND_LIMITS_PER_SESSION": "5/1h",
        "OTP_SEND_BUDGET": "500/1h",
        "OTP_ALLOWED_COUNTRIES": "",
        "OTP_PUMPING_MIN_SENDS": "20",
        "OTP_TRUSTED_PROXY_COUNT": "0",
    }
    environ = environ_without_settings(
        DATABASE_URL=database_url(),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        GUNICORN_ACCESS_LOG="/dev/null",
        SMS_BACKEND="verification.sms.backends.filebased.SmsBackend",
        SMS_FILE_PATH=str(app.outbox),
        **{**pinned, **env},
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "otpsite.wsgi"],
        cwd=ROOT,
        env=environ,
        stderr=subprocess.PIPE,
        text=True,
    )
    listening = threading.Event()

    def drain() -> None:
        # Read every line, so a chatty worker never blocks on a full pipe.
        for line in server.stderr:
            app.log.append(line)
            if "Listening at" in line:
                listening.set()
        listening.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        listening.wait(timeout=60)
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited before listening:\n" + "".join(app.log))
        yield app
    finally:
        server.terminate()
        server.wait(timeout=30)
        reader.join(timeout=10)
