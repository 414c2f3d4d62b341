"""Start the real app under gunicorn (gthread, two worker processes) against this run's test database."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from tests.helpers import ROOT, environ_without_settings, free_port


@dataclass
class LiveApp:
    url: str
    outbox: Path
    log: list[str] = field(default_factory=list)

    def sms(self) -> list[str]:
        """Return the text of every SMS the workers wrote, oldest first."""
        return [path.read_text() for path in sorted(self.outbox.iterdir())] if self.outbox.exists() else []


def database_url() -> str:
    """Return a URL for the test database this run created, so gunicorn shares it."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def serve(tmp_path: Path, **env: str) -> Iterator[LiveApp]:
    """Run gunicorn (by default with the filebased SMS backend) and `env` on a free port until the block ends."""
    port = free_port()
    app = LiveApp(f"http://127.0.0.1:{port}", tmp_path / "sms")
    environ = environ_without_settings(
        DATABASE_URL=database_url(),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="4",
        GUNICORN_ACCESS_LOG="/dev/null",
        # The per-process cache and the filebased SMS backend unless `env` names others; the app's settings are
        # its defaults.
        **{
            "CACHE_URL": "locmemcache://",
            "SMS_BACKEND": "verification.sms.backends.filebased.SmsBackend",
            "SMS_FILE_PATH": str(app.outbox),
            **env,
        },
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
