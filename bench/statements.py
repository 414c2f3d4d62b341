"""Count the SQL statements of one send, one wrong code and one right code through the site's pages.

    cd CHECKOUT && DATABASE_URL=... python PATH/TO/bench/statements.py

Run by the bench in the checkout it measures (the current folder comes first on sys.path, so an A/B run counts
each checkout's own code), against a database of its own, with SMS in memory; prints one JSON object.
"""

from __future__ import annotations

import json
import os
import re
import sys


def main() -> None:
    sys.path.insert(0, os.getcwd())
    os.environ["SMS_BACKEND"] = "verification.sms.backends.locmem.SmsBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otpsite.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from verification.sms.backends import locmem

    # As the bench's clients: through a TLS proxy, so production mode serves plain HTTP.
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https", HTTP_REFERER="https://127.0.0.1/")
    counts: dict[str, int] = {}

    def count(name: str, request, status: int) -> None:
        with CaptureQueriesContext(connection) as queries:
            response = request()
        assert response.status_code == status, f"{name}: {response.status_code}"
        counts[name] = len(queries.captured_queries)

    for phone in ("+33619000001", "+33619000002"):
        client.cookies.clear()
        client.get("/")
        # The second send is the one counted: the first of a process also prunes what time made irrelevant.
        count("send", lambda phone=phone: client.post("/", {"phone": phone}), 302)
    code = re.search(r"\d{6}", locmem.outbox[-1].body).group()
    wrong = "".join(str((int(d) + 1) % 10) for d in code)
    count("wrong_code", lambda: client.post("/verify/", {"code": wrong}), 200)
    count("right_code", lambda: client.post("/verify/", {"code": code}), 302)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
