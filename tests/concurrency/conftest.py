"""The race tests run twice on SQLite: with the app's write queue (as the site runs) and with SQLite's lock alone."""

from __future__ import annotations

import pytest
from django.db import connections


@pytest.fixture(params=["write queue", "sqlite lock only"])
def sqlite_write_queue(request):
    """On SQLite, queue a process's threads for the write lock or leave them to SQLite's busy handler."""
    connection = connections["default"]
    if connection.vendor != "sqlite":
        # tests/conftest.py leaves the "sqlite lock only" run out on other databases.
        yield
        return
    # Every thread's connection is made from this one settings dictionary, read when a transaction begins.
    options = connection.settings_dict["OPTIONS"]
    before = options.get("write_queue", True)
    options["write_queue"] = request.param == "write queue"
    assert (connection.write_queue is not None) == options["write_queue"]
    try:
        yield
    finally:
        options["write_queue"] = before
