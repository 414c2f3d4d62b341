"""The settings the suite runs on: the site's own, in development mode, asked for explicitly.

DJANGO_DEBUG defaults to false, so the suite says what it wants instead of relying on a default;
tests of production behaviour start fresh interpreters with DJANGO_DEBUG=false.
"""

import os

os.environ["DJANGO_DEBUG"] = "true"

from otpsite.settings import *  # noqa: E402, F403
