"""Gunicorn settings, read from the environment so one file serves development and production."""

import ctypes
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

import environ

# The same .env as the Django settings (or DJANGO_ENV_FILE), so GUNICORN_* and LOG_FORMAT can live there too.
environ.Env.read_env(os.environ.get("DJANGO_ENV_FILE", Path(__file__).resolve().parent / ".env"))

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads keep the site responsive while a request waits on the SMS provider.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# 16, not 4: a send holds its thread for the provider's whole answer, and `make bench` showed 8 threads
# all taken by 300 ms sends at once, page views queueing behind them (BENCHMARKS.md, figure 3).
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Above TWILIO_TIMEOUT_SECONDS, so a slow provider ends in a clear message, not a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
logger_class = "otpsite.gunicorn_logger.Logger"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app is imported once, in the master, and the workers share its memory (about 12 MiB less per worker,
# BENCHMARKS.md). A HUP then restarts the workers on the code the master loaded: deploy new code with a
# restart (or USR2), or set GUNICORN_PRELOAD=false to load it in each worker as before.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in ("0", "false", "no", "off")
# gunicorn's control socket (for gunicornc) only where GUNICORN_CONTROL_SOCKET names one: its default is one path
# per user (~/.gunicorn/gunicorn.ctl), which each master started by that user would take over from the last.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# Prometheus metrics (verification/metrics.py): each worker process counts in its own files in
# PROMETHEUS_MULTIPROC_DIR and /metrics sums them all. The folder belongs to this master: the one the variable
# names, emptied at start (a previous run's counts would be added in), else a fresh temporary one removed at exit.
# Prepared as gunicorn reads this file (it loads it as the module "__config__"; `make bench` only reads the
# settings), because prometheus_client reads the variable when it is imported, and with preload_app the app is
# imported before any server hook runs. A HUP reads this file again in the same master: the folder is prepared
# once per master, so a reload keeps the counts.
_metrics_dir_made = os.environ.get("OTPSITE_METRICS_DIR_MADE", "")
if __name__ == "__config__" and os.environ.get("OTPSITE_METRICS_MASTER") != str(os.getpid()):
    os.environ["OTPSITE_METRICS_MASTER"] = str(os.getpid())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
        for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
            stale.unlink()
    else:
        _metrics_dir_made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="otp-metrics-")
    os.environ["OTPSITE_METRICS_DIR_MADE"] = _metrics_dir_made


def on_starting(server):
    """Say where the metrics go, and limit glibc to two malloc arenas so every worker the master forks inherits it.

    glibc gives threads that allocate at once arenas of their own (up to 8 per core) and each keeps what it freed:
    with 16 threads that is about 4 MiB more per worker (`make bench`, figure 5). An explicit MALLOC_ARENA_MAX,
    which glibc has already read, wins; another C library simply has no `mallopt` to call.
    """
    server.log.info("Prometheus metrics folder: %s", os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(-8, 2)  # M_ARENA_MAX


def pre_fork(server, worker):
    """Fork a worker from a master that holds no database connection, with its objects kept out of the GC.

    Django connects lazily and nothing connects while the app loads, but a socket shared by two processes would
    mix their queries, so the master closes any it has. gc.freeze() spares the shared pages the collector's
    writes, which would otherwise copy them into every worker.
    """
    if not server.cfg.preload_app:
        return
    from django.db import connections

    connections.close_all()
    gc.freeze()


def post_fork(server, worker):
    """Start tracing in this worker when OpenTelemetry's variables ask for it (verification/tracing.py).

    After the fork, not in the master: the exporter sends from a thread of its own, which a fork does not copy.
    A preloaded app built its middleware in the master, so it is rebuilt here with the tracing middleware in it.
    """
    from verification import tracing

    if not tracing.wanted():
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otpsite.settings")
    if tracing.start_from_environment() and "otpsite.wsgi" in sys.modules:
        sys.modules["otpsite.wsgi"].application.load_middleware()


def child_exit(server, worker):
    """Let the metrics forget a dead worker's live gauges; its counts stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this master made."""
    if _metrics_dir_made:
        shutil.rmtree(_metrics_dir_made, ignore_errors=True)
