"""Settings of the floor: no middleware, one app, and the site's own database settings."""

from __future__ import annotations

import os

# The site's settings module builds DATABASES from DATABASE_URL with its engine options
# (SQLite WAL and IMMEDIATE transactions, PostgreSQL connection reuse), so the floor pays what the site pays.
from otpsite.settings import DATABASES  # noqa: F401

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bench.floor"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.wsgi.application"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
