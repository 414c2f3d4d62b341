"""The real app under gunicorn (gthread, two worker processes) against this run's test database, and browsers for it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.db import connection

from tests.helpers import ROOT, environ_without_settings, free_port, running_server

#: Seconds a request to the live app may take.
TIMEOUT = 30


@dataclass
class LiveApp:
    url: str
    outbox: Path
    log: list[str] = field(default_factory=list)
    #: The gunicorn master's process id.
    pid: int = 0
    #: Notified at each new line of `log`.
    logged: threading.Condition = field(default_factory=threading.Condition)

    def worker_pids(self) -> set[int]:
        """Return the process ids of the master's workers now."""
        return {int(pid) for pid in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()}

    def wait_for_log(self, done: Callable[[str], bool], timeout: float = 60) -> None:
        """Return once `done(whole log so far)` is true; fail after `timeout` seconds."""
        with self.logged:
            if not self.logged.wait_for(lambda: done("".join(self.log)), timeout=timeout):
                raise AssertionError("gunicorn never logged what was awaited:\n" + "".join(self.log))

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
        # Tests open their browsers one by one, then post from all at once: on a busy machine that can take longer
        # than the 5 s default, and a post on a connection the server has just closed fails with a reset.
        GUNICORN_KEEPALIVE="120",
        # A worker still starting when the block ends and gunicorn gets TERM (before it sets its own signal
        # handlers) misses the signal, and the master kills it only after the graceful timeout: 30 s by default,
        # as long as the block waits for gunicorn to exit. Seen once under CI's load.
        GUNICORN_GRACEFUL_TIMEOUT="5",
        # The per-process cache and the filebased SMS backend unless `env` names others; the app's settings are
        # its defaults.
        **{
            "CACHE_URL": "locmemcache://",
            "SMS_BACKEND": "verification.sms.backends.filebased.SmsBackend",
            "SMS_FILE_PATH": str(app.outbox),
            **env,
        },
    )

    def keep(line: str) -> None:
        with app.logged:
            app.log.append(line)
            app.logged.notify_all()

    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "otpsite.wsgi"]
    with running_server(command, "Listening at", keep, cwd=ROOT, env=environ) as server:
        app.pid = server.pid
        yield app


class Browser:
    """A browser session on the live app: cookies and the CSRF token it needs to post."""

    def __init__(self, app: LiveApp, cookies: requests.cookies.RequestsCookieJar | None = None) -> None:
        self.app = app
        self.http = requests.Session()
        if cookies is None:
            assert self.http.get(app.url + "/", timeout=TIMEOUT).status_code == 200
        else:
            self.http.cookies.update(cookies)

    def post(self, path: str, data: dict) -> requests.Response:
        data = {**data, "csrfmiddlewaretoken": self.http.cookies["csrftoken"]}
        return self.http.post(self.app.url + path, data=data, allow_redirects=False, timeout=TIMEOUT)

    def tab(self) -> Browser:
        """Return another connection sharing this browser's cookies, like a second tab."""
        return Browser(self.app, self.http.cookies)
