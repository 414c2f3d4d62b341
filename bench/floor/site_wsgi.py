"""WSGI entry point of the middleware floor for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.site_settings")

application = get_wsgi_application()
