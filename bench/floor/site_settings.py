"""Settings of the middleware floor: the floor's views behind exactly the site's middleware, sessions and templates.

Everything is the site's own settings module (MIDDLEWARE, session engine, TEMPLATES, security headers, CSP,
languages, static files, DATABASES); only the apps and URLs are the floor's. So the site's figures read against
what any Django view costs on this stack, not against bare Django.
"""

from __future__ import annotations

from otpsite.settings import *  # noqa: F403 - the site's settings, unchanged, are the point of this floor
from otpsite.settings import INSTALLED_APPS as SITE_APPS

# The site's apps minus its own (and the admin, which serves no page here), plus the floor's.
INSTALLED_APPS = [app for app in SITE_APPS if app not in ("verification", "django.contrib.admin")] + ["bench.floor"]
ROOT_URLCONF = "bench.floor.urls"
WSGI_APPLICATION = "bench.floor.site_wsgi.application"
