"""Visitors of the topology, run inside a host's namespace: `python -m tests.topology.clients COMMAND ...`.

Each command prints one JSON object (the drip command a line when its connections are open, then its summary).
Nothing here imports Django: these are browsers and attackers, not the site.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import resource
import secrets
import ssl
import statistics
import sys
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InsecureRequestWarning

from tests.helpers import at_once
from tests.topology.network import CLIENT_POOL

#: The test's certificate is its own; what is tested is nginx, not certificate checking.
warnings.simplefilter("ignore", InsecureRequestWarning)
TIMEOUT = 40
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CODE = re.compile(r"\b(\d{6,})\b")
SITE_ERROR = "Something went wrong"
#: Every page of the site, error pages included, is laid out in this.
SITE_LAYOUT = '<main class="card">'


class FlowError(Exception):
    """A step of a flow got something other than what a working site answers; `seen` says what."""

    def __init__(self, seen: str) -> None:
        super().__init__(seen)
        self.seen = seen


class FromAddress(HTTPAdapter):
    """Open connections from one of the client host's addresses: one visitor, as the per-IP limits see it."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


class Visitor:
    """A browser: its cookies, and where it comes from (an address of the client host, or a forwarded one)."""

    def __init__(self, url: str, site: str, source: str | None = None, forwarded_for: str | None = None) -> None:
        self.url, self.site, self.source, self.forwarded_for = url, site, source, forwarded_for
        self.http = requests.Session()
        # No proxy or CA bundle from the environment: requests go straight to the test's hosts.
        self.http.trust_env = False
        self.http.verify = False
        self.http.headers.update({"Host": site, "Referer": f"https://{site}/"})
        if source:
            self.http.mount("https://", FromAddress(source))
            self.http.mount("http://", FromAddress(source))
        if forwarded_for:
            # Straight to gunicorn, standing in for nginx: the headers nginx would set.
            self.http.headers.update({"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"})
        self.token = ""

    def _cookies_over_plain_http(self) -> None:
        # nginx passes a TLS visitor's Secure cookies to gunicorn over plain HTTP; so must its stand-in.
        if self.forwarded_for:
            for cookie in self.http.cookies:
                cookie.secure = False

    def get(self, path: str, **kwargs) -> requests.Response:
        self._cookies_over_plain_http()
        return self.http.get(self.url + path, allow_redirects=False, timeout=TIMEOUT, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        data = {**data, "csrfmiddlewaretoken": self.token}
        self._cookies_over_plain_http()
        return self.http.post(self.url + path, data=data, allow_redirects=False, timeout=TIMEOUT, **kwargs)

    def open_form(self) -> None:
        """Load the phone page and keep its CSRF token."""
        response = self.get("/")
        expect(response, 200)
        self.token = CSRF_INPUT.search(response.text).group(1)

    def tab(self) -> Visitor:
        """Return another tab of this browser: the same cookies, a connection of its own."""
        other = Visitor(self.url, self.site, self.source, self.forwarded_for)
        other.http.cookies.update(self.http.cookies)
        other.token = self.token
        return other


def expect(response: requests.Response, status: int, location: str | None = None) -> requests.Response:
    """Return the response if it is what a working site answers; raise FlowError naming what came instead."""
    if response.status_code != status or (location and response.headers.get("Location") != location):
        raise FlowError(f"{response.status_code} {page_of(response)}")
    return response


def page_of(response: requests.Response) -> str:
    """Say whose page an answer is: the site's (its layout), nginx's own, or something else."""
    if SITE_LAYOUT in response.text:
        return "site page"
    if "<center>nginx</center>" in response.text:
        return "nginx page"
    return "other"


def outcome(response: requests.Response) -> str:
    return response.headers.get("Location", str(response.status_code))


def wrong(code: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in code)


class Outbox:
    """The SMS the app hosts wrote, one file each, read as a phone would receive them."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.seen: set[str] = set()
        self.messages: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def _read_new(self) -> None:
        for path in sorted(self.folder.iterdir()) if self.folder.exists() else []:
            if path.name in self.seen:
                continue
            text = path.read_text()
            if "\n\n" not in text:
                continue  # still being written
            self.seen.add(path.name)
            recipient, body = text.split("\n\n", 1)
            self.messages.setdefault(recipient.removeprefix("To: "), []).append(body)

    def sent_to(self, phone: str) -> list[str]:
        with self.lock:
            self._read_new()
            return list(self.messages.get(phone, []))

    def code_for(self, phone: str) -> str:
        sent = self.sent_to(phone)
        if not sent:
            raise FlowError("no SMS")
        return CODE.search(sent[-1]).group(1)


def verification(visitor: Visitor, phone: str, outbox: Outbox) -> None:
    """Verify a number as a new visitor does: phone page, send, code page, the code from the SMS."""
    try:
        visitor.open_form()
        expect(visitor.post("/", {"phone": phone}), 302, "/verify/")
        expect(visitor.get("/verify/"), 200)
        expect(visitor.post("/verify/", {"code": outbox.code_for(phone)}), 302, "/verified/")
    except requests.RequestException as exc:
        raise FlowError(type(exc).__name__) from exc


def warmed(visitor: Visitor) -> Visitor:
    """Return the visitor with its connection already open, so the attack's requests leave together."""
    visitor.get("/healthz")
    return visitor


# Commands


def cmd_get(args) -> dict:
    response = Visitor(args.url, args.site).get(args.path, headers=dict(h.split(": ", 1) for h in args.header))
    return {"status": response.status_code, "headers": dict(response.headers), "body": response.text[:2000]}


def cmd_wait(args) -> dict:
    """Wait until /healthz answers 200 several times in a row (through nginx: from every host)."""
    deadline, in_a_row = time.monotonic() + args.seconds, 0
    while in_a_row < args.times:
        try:
            ok = Visitor(args.url, args.site).get("/healthz").status_code == 200
        except requests.RequestException:
            ok = False
        in_a_row = in_a_row + 1 if ok else 0
        if time.monotonic() > deadline:
            return {"ready": False}
        if not ok:
            time.sleep(0.1)
    return {"ready": True}


def cmd_latency(args) -> dict:
    """Time /healthz and the phone page, each from a new connection, every `interval` seconds."""
    times: dict[str, list[float]] = {"/healthz": [], "/": []}
    failures: Counter = Counter()
    end = time.monotonic() + args.seconds
    for path in itertools.cycle(times):
        if time.monotonic() >= end:
            break
        began = time.perf_counter()
        try:
            status = Visitor(args.url, args.site).get(path).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        times[path].append(time.perf_counter() - began)
        if status != 200:
            failures[f"{path} {status}"] += 1
        time.sleep(args.interval)
    return {path: {"count": len(t), "median": statistics.median(t), "max": max(t)} for path, t in times.items()} | {
        "failures": dict(failures)
    }


def cmd_drip(args) -> dict:
    """Hold `connections` connections open at nginx, each sending its header or its body one line a second."""
    return asyncio.run(_drip(args))


async def _drip(args) -> dict:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    stats = Counter()
    stop = asyncio.Event()
    ready = asyncio.Event()

    async def one(index: int) -> None:
        headers_only = index % 2 == 0
        while not stop.is_set():
            writer = None
            try:
                reader, writer = await asyncio.open_connection(args.host, 443, ssl=context, server_hostname=args.site)
                stats["opened"] += 1
                stats["open"] += 1
                stats["peak_open"] = max(stats["peak_open"], stats["open"])
                if stats["open"] >= args.connections:
                    ready.set()
                if headers_only:
                    writer.write(f"GET /healthz HTTP/1.1\r\nHost: {args.site}\r\n".encode())
                else:
                    writer.write(
                        f"POST / HTTP/1.1\r\nHost: {args.site}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        "Content-Length: 100000\r\n\r\n".encode()
                    )
                closed = asyncio.ensure_future(reader.read())
                while not stop.is_set() and not closed.done():
                    writer.write(b"X-Slow: 1\r\n" if headers_only else b"a")
                    await writer.drain()
                    await asyncio.wait([closed, asyncio.ensure_future(stop.wait())], timeout=args.every)
                if closed.done():
                    stats["shed_by_nginx"] += 1
                    if not closed.exception() and closed.result().startswith(b"HTTP/1.1 408"):
                        stats["answered_408"] += 1
                closed.cancel()
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
                stats["shed_by_nginx"] += 1
                await asyncio.sleep(0.2)
            finally:
                if writer is not None:
                    stats["open"] -= 1
                    writer.close()

    tasks = [asyncio.ensure_future(one(i)) for i in range(args.connections)]
    try:
        await asyncio.wait_for(ready.wait(), timeout=30)
    except TimeoutError:
        pass
    print(json.dumps({"open": stats["open"]}), flush=True)
    await asyncio.sleep(args.seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"connections": args.connections} | {
        k: stats[k] for k in ("opened", "peak_open", "shed_by_nginx", "answered_408")
    }


def cmd_attacks(args) -> dict:
    """The parallel attacks of tests/concurrency/test_live_limits.py, each from an address of its own."""
    outbox, site, url = Outbox(args.outbox), args.site, args.url
    sources = iter(args.sources)
    phones = iter(args.phones)
    results = {}

    def tabs_on_code_page(phone: str, count: int) -> tuple[str, list[Visitor]]:
        """Send `phone` a code from a new browser; return the code and that many tabs on its code page."""
        browser = Visitor(url, site, next(sources))
        browser.open_form()
        expect(browser.post("/", {"phone": phone}), 302, "/verify/")
        return outbox.code_for(phone), [warmed(browser.tab()) for _ in range(count)]

    # 30 wrong codes at once for one number.
    phone = next(phones)
    code, tabs = tabs_on_code_page(phone, 30)
    responses = at_once([lambda tab=tab: tab.post("/verify/", {"code": wrong(code)}) for tab in tabs])
    results["wrong_codes"] = {"phone": phone, "outcomes": Counter(map(outcome, responses))}

    # 10 right codes at once for one number.
    phone = next(phones)
    code, tabs = tabs_on_code_page(phone, 10)
    responses = at_once([lambda tab=tab: tab.post("/verify/", {"code": code}) for tab in tabs])
    results["right_codes"] = {"phone": phone, "outcomes": Counter(map(outcome, responses))}

    # 20 browsers at once asking a code for one number.
    phone = next(phones)
    source = next(sources)
    browsers = [warmed(Visitor(url, site, source)) for _ in range(20)]
    for browser in browsers:
        browser.open_form()
    responses = at_once([lambda b=b: b.post("/", {"phone": phone}) for b in browsers])
    results["one_number"] = {
        "phone": phone,
        "outcomes": Counter(map(outcome, responses)),
        "sms": len(outbox.sent_to(phone)),
    }

    # 40 browsers of one address at once, each asking a code for a number of its own.
    source = next(sources)
    browsers = [Visitor(url, site, source) for _ in range(40)]
    for browser in browsers:
        browser.open_form()
    numbers = [next(phones) for _ in browsers]
    responses = at_once([lambda b=b, n=n: b.post("/", {"phone": n}) for b, n in zip(browsers, numbers, strict=True)])
    results["one_address"] = {
        "statuses": Counter(str(r.status_code) for r in responses),
        "retry_after": sorted({int(r.headers["Retry-After"]) for r in responses if r.status_code == 429}),
        "sms": sum(len(outbox.sent_to(n)) for n in numbers),
    }
    return results


def cmd_flows(args) -> dict:
    """Verify new numbers from `threads` browsers, for `seconds` or until `count` flows completed.

    A flow that gets an error starts again as a new visitor with a new number, as a person would try again.
    """
    outbox = Outbox(args.outbox)
    numbers = itertools.count(args.first_number)
    addresses = itertools.cycle(CLIENT_POOL[args.first_address :] + CLIENT_POOL[: args.first_address])
    lock = threading.Lock()
    completed: list[str] = []
    failed: list[tuple[str, str]] = []
    began = time.monotonic()
    window = (began + args.warmup, began + args.warmup + args.seconds) if args.seconds else (began, float("inf"))
    in_window = 0

    def browse() -> None:
        nonlocal in_window
        while True:
            with lock:
                if time.monotonic() >= window[1] or (args.count and len(completed) >= args.count):
                    return
                phone, address = f"+3361{next(numbers):07d}", next(addresses)
            if args.direct:
                visitor = Visitor(args.url, args.site, forwarded_for=address)
            else:
                visitor = Visitor(args.url, args.site, source=address)
            try:
                verification(visitor, phone, outbox)
            except FlowError as error:
                with lock:
                    failed.append((phone, error.seen))
                continue
            finally:
                visitor.http.close()
            with lock:
                completed.append(phone)
                in_window += window[0] <= time.monotonic() <= window[1]

    workers = [threading.Thread(target=browse) for _ in range(args.threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    result = {"completed": completed, "failed": failed, "errors_seen": Counter(seen for _, seen in failed)}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    if args.seconds:
        result["per_second"] = in_window / args.seconds
    return result


def cmd_outage(args) -> dict:
    """What a visitor gets from the site while its database is down."""
    visitor = Visitor(args.url, args.site, args.source)
    answers = {}
    health = visitor.get("/healthz")
    answers["/healthz"] = {"status": health.status_code, "body": health.text[:200]}
    page = visitor.get("/")
    answers["GET /"] = {"status": page.status_code, "site_error_page": SITE_ERROR in page.text}
    match = CSRF_INPUT.search(page.text)
    visitor.token = match.group(1) if match else ""
    sent = visitor.post("/", {"phone": args.phone})
    answers["POST /"] = {"status": sent.status_code, "site_error_page": SITE_ERROR in sent.text}
    return answers


def cmd_recover(args) -> dict:
    """Try a complete verification until one succeeds; return how long that took and what came before."""
    outbox = Outbox(args.outbox)
    began, seen = time.monotonic(), Counter()
    for attempt in itertools.count():
        try:
            verification(Visitor(args.url, args.site, args.source), f"+3362{args.first_number + attempt:07d}", outbox)
        except FlowError as error:
            seen[error.seen] += 1
            if time.monotonic() - began > args.seconds:
                return {"recovered": False, "seen": seen}
            time.sleep(0.1)
            continue
        return {"recovered": True, "seconds": time.monotonic() - began, "seen": seen}


def cmd_forged(args) -> dict:
    """Send a code while claiming another address and plain HTTP; nginx must replace both claims."""
    visitor = Visitor(args.url, args.site, args.source)
    visitor.open_form()
    forged = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "http", "Origin": f"https://{args.site}"}
    response = visitor.post("/", {"phone": args.phone}, headers=forged)
    return {"status": response.status_code, "location": response.headers.get("Location", "")}


def cmd_receipt(args) -> dict:
    """Post a delivery receipt signed as Twilio signs it, and one with a wrong signature."""
    from twilio.request_validator import RequestValidator

    url = f"https://{args.site}/sms/status/"
    params = {"MessageSid": "SM" + secrets.token_hex(16), "MessageStatus": "delivered"}
    signature = RequestValidator(args.token).compute_signature(url, params)
    visitor = Visitor(args.url, args.site)
    signed = visitor.http.post(args.url + "/sms/status/", data=params, headers={"X-Twilio-Signature": signature})
    forged = visitor.http.post(args.url + "/sms/status/", data=params, headers={"X-Twilio-Signature": "x" + signature})
    return {"signed": signed.status_code, "forged": forged.status_code}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.topology.clients")
    parser.add_argument("--url", required=True)
    parser.add_argument("--site", required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("get")
    get.add_argument("path")
    get.add_argument("--header", action="append", default=[])
    wait = commands.add_parser("wait")
    wait.add_argument("--seconds", type=float, default=60)
    wait.add_argument("--times", type=int, default=4)
    latency = commands.add_parser("latency")
    latency.add_argument("--seconds", type=float, required=True)
    latency.add_argument("--interval", type=float, default=0.1)
    drip = commands.add_parser("drip")
    drip.add_argument("--host", required=True)
    drip.add_argument("--connections", type=int, required=True)
    drip.add_argument("--seconds", type=float, required=True)
    drip.add_argument("--every", type=float, default=1.0)
    attacks = commands.add_parser("attacks")
    attacks.add_argument("--outbox", required=True)
    attacks.add_argument("--sources", nargs=4, required=True)
    attacks.add_argument("--phones", nargs=43, required=True)
    flows = commands.add_parser("flows")
    flows.add_argument("--outbox", required=True)
    flows.add_argument("--threads", type=int, default=8)
    flows.add_argument("--seconds", type=float, default=0)
    flows.add_argument("--warmup", type=float, default=1)
    flows.add_argument("--count", type=int, default=0)
    flows.add_argument("--first-number", type=int, required=True)
    flows.add_argument("--first-address", type=int, default=0)
    flows.add_argument("--direct", action="store_true")
    outage = commands.add_parser("outage")
    outage.add_argument("--source", required=True)
    outage.add_argument("--phone", required=True)
    recover = commands.add_parser("recover")
    recover.add_argument("--outbox", required=True)
    recover.add_argument("--source", required=True)
    recover.add_argument("--first-number", type=int, required=True)
    recover.add_argument("--seconds", type=float, default=60)
    forged = commands.add_parser("forged")
    forged.add_argument("--source", required=True)
    forged.add_argument("--phone", required=True)
    receipt = commands.add_parser("receipt")
    receipt.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    result = globals()["cmd_" + args.command](args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
