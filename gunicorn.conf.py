"""Gunicorn settings, read from the environment so one file serves development and production."""

import os
import shutil
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

# Prometheus metrics (verification/metrics.py): each worker process counts in its own files in
# PROMETHEUS_MULTIPROC_DIR and /metrics sums them all. The folder belongs to this master: the one the variable
# names, emptied at start (a previous run's counts would be added in), else a fresh temporary one removed at exit.
_metrics_dir_made = None


def on_starting(server):
    """Give the workers an empty folder for their metrics, before any of them starts."""
    global _metrics_dir_made
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for stale in Path(path).glob("*.db"):
            stale.unlink()
    else:
        path = _metrics_dir_made = tempfile.mkdtemp(prefix="otp-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    server.log.info("Prometheus metrics folder: %s", path)


def child_exit(server, worker):
    """Let the metrics forget a dead worker's live gauges; its counts stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this master made."""
    if _metrics_dir_made:
        shutil.rmtree(_metrics_dir_made, ignore_errors=True)
