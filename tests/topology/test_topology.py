"""The production recipe run on one machine: nginx (deploy/nginx/otp.conf), two app hosts, PostgreSQL and Redis.

Each host is a Linux network namespace on a bridge of the test's own (10.203.0.0/16), so every request crosses a
real network stack and nothing leaves the namespaces. Visitors and attackers run in the client namespace
(tests/topology/clients.py). The tests share one topology and run in order: the host killed in the last but one
stays dead for the last. The figures each test measures are printed with its result.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.topology.hosts import SITE_NAME, AppHosts, Cache, Database, Proxy, wait_until
from tests.topology.network import CLIENT_POOL, SUBNET, Network, remove_leftovers

HOSTS = {
    "edge": "10.203.0.10",
    "app1": "10.203.0.11",
    "app2": "10.203.0.12",
    "data": "10.203.0.20",
    "client": "10.203.0.100",
}
EDGE_URL = f"https://{HOSTS['edge']}"
#: Addresses of single visitors (the attacks, the outage); the runs of flows take theirs from CLIENT_POOL.
VISITORS = [f"10.203.0.{i}" for i in range(101, 111)]
#: Slow connections held open at nginx.
SLOW_CLIENTS = 240
#: Seconds of each throughput run.
RUN_SECONDS = 5
FIGURES: dict[str, object] = {}


class Topology:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.net = Network(HOSTS)
        self.database = Database(self.net, "data", folder)
        self.cache = Cache(self.net, "data", folder)
        self.apps = AppHosts(self.net, folder, self.database, self.cache, proxy="edge")
        self.proxy = Proxy(self.net, "edge", folder)

    def build(self) -> None:
        self.net.build()
        self.net.add_addresses("client", VISITORS + CLIENT_POOL)
        self.database.create()
        self.cache.start()
        self.apps.migrate("app1")
        for host in ("app1", "app2"):
            self.apps.start(host)
        self.proxy.start([HOSTS["app1"], HOSTS["app2"]])
        assert self.client("wait")["ready"], "nginx never answered /healthz 200"

    def client_command(self, *args: str, host: str = "client", url: str = EDGE_URL) -> list[str]:
        module = [sys.executable, "-m", "tests.topology.clients", "--url", url, "--site", SITE_NAME]
        return self.net.command(host, *module, *args)

    def client(self, *args: str, host: str = "client", url: str = EDGE_URL, timeout: float = 120) -> dict:
        """Run a client command in a host's namespace; return what it printed."""
        done = subprocess.run(
            self.client_command(*args, host=host, url=url), cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode:
            raise AssertionError(f"client {args[0]} failed:\n{done.stderr}")
        return json.loads(done.stdout.splitlines()[-1])

    def flows_under_way(self, *args: str) -> subprocess.Popen:
        """Start the client's run of verifications in the background (its figures come out on stdout)."""
        command = self.client_command("flows", "--outbox", str(self.apps.outbox), *args)
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def verified_events(self, phones: list[str]) -> dict[str, int]:
        """Return how many `verified` events each of the numbers has."""
        listed = ",".join(f"'{phone}'" for phone in phones)
        rows = self.database.query(
            f"SELECT phone, count(*) FROM verification_verificationevent WHERE kind = 'verified' "
            f"AND phone IN ({listed}) GROUP BY phone"
        )
        return {phone: int(count) for phone, count in rows}

    def print_logs(self) -> None:
        """Print the end of every log the hosts wrote, for the failure report."""
        for log in sorted(self.folder.rglob("*.log")) + sorted(self.folder.glob("postgres/log")):
            print(f"==> {log.relative_to(self.folder)}\n" + "\n".join(log.read_text().splitlines()[-30:]))

    def sms_count(self) -> int:
        return len(list(self.apps.outbox.iterdir())) if self.apps.outbox.exists() else 0


@pytest.fixture(scope="module")
def topology():
    remove_leftovers()
    folder = Path(tempfile.mkdtemp(prefix=f"otptopo{os.getpid()}-"))
    # PostgreSQL's user and nginx's workers must reach their folders inside.
    folder.chmod(0o755)
    site = Topology(folder)
    try:
        site.build()
        yield site
        assert not site.apps.errors(), "\n\n".join(site.apps.errors())
    except BaseException:
        site.print_logs()
        raise
    finally:
        site.net.destroy()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def report(capsys):
    """Print a test's figures in the test run's output, and keep them for the summary."""

    def say(name: str, figures: object) -> None:
        FIGURES[name] = figures
        with capsys.disabled():
            print(f"\n[topology] {name}: {json.dumps(figures)}")

    return say


def test_the_hosts_reach_nothing_but_each_other(topology):
    # No default route: an address outside the test's network is unreachable from every host.
    for host in HOSTS:
        assert set(topology.net.routes(host)) <= {str(SUBNET), "fe80::/64"}, host


def test_nginx_serves_static_files_and_sets_the_forwarded_headers(topology, report):
    manifest = json.loads((ROOT / "staticfiles" / "staticfiles.json").read_text())["paths"]
    asset = manifest["verification/site.css"]
    # The request carries a mark of its own (nginx picks the location by path, ignoring the query), and no app
    # host may have logged it. Comparing the hosts' line counts before and after was not deterministic: gunicorn
    # writes a request's access line after the answer has gone out, so the line of an earlier request (a failed
    # probe of the start-up wait, say) could land in between and count as this one.
    mark = f"static-probe-{secrets.token_hex(8)}"
    static = topology.client("get", f"/static/{asset}?{mark}")
    assert static["status"] == 200
    assert (
        "immutable" in static["headers"]["Cache-Control"] and "max-age=315360000" in static["headers"]["Cache-Control"]
    )
    assert not topology.apps.logged(mark)

    plain = topology.client("get", "/verify/", url=f"http://{HOSTS['edge']}")
    assert plain["status"] == 301 and plain["headers"]["Location"] == f"https://{SITE_NAME}/verify/"

    # The client claims another address and plain HTTP: nginx replaces both, so the send is counted against the
    # address nginx saw, and Django, seeing HTTPS, accepts the HTTPS origin.
    phone = "+33612340009"
    forged = topology.client("forged", "--source", VISITORS[9], "--phone", phone)
    assert forged == {"status": 302, "location": "/verify/"}
    [[client_ip]] = topology.database.query(
        f"SELECT client_ip FROM verification_verificationevent WHERE phone = '{phone}' AND kind = 'sent'"
    )
    assert client_ip == VISITORS[9]

    receipt = topology.client("receipt", "--token", topology.apps.twilio_auth_token)
    assert receipt == {"signed": 200, "forged": 403}
    report("static and headers", {"static": static["headers"]["Cache-Control"], "receipt": receipt})


def test_slow_clients_at_nginx_do_not_delay_a_normal_client(topology, report):
    before = topology.client("latency", "--seconds", "3")
    drip = subprocess.Popen(
        topology.client_command("drip", "--host", HOSTS["edge"], "--connections", str(SLOW_CLIENTS), "--seconds", "12"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        opened = json.loads(drip.stdout.readline())
        during = topology.client("latency", "--seconds", "9")
        slow = json.loads(drip.stdout.read().splitlines()[-1])
    finally:
        drip.kill()
        drip.wait()
    figures = {"slow_connections_open": opened["open"], "slow": slow, "before": before, "during": during}
    report("slow clients", figures)
    assert opened["open"] >= 200
    assert not during["failures"], during["failures"]
    for path in ("/healthz", "/"):
        assert during[path]["max"] < before[path]["median"] + 1.0, (path, figures)
    # Header drippers are cut off once client_header_timeout (10 s) has passed.
    assert slow["shed_by_nginx"] > 0


def test_parallel_attacks_spread_over_both_hosts_hold(topology, report):
    served = {host: topology.apps.requests_served(host) for host in ("app1", "app2")}
    phones = ["+33612340001", "+33612340002", "+33612340003"] + [f"+336123456{i:02d}" for i in range(40)]
    attacks = topology.client(
        "attacks", "--outbox", str(topology.apps.outbox), "--sources", *VISITORS[:4], "--phones", *phones
    )
    split = {host: topology.apps.requests_served(host) - served[host] for host in served}
    report("parallel attacks", attacks | {"requests_per_host": split})

    wrong = attacks["wrong_codes"]
    assert wrong["outcomes"] == {"200": 2, "/locked/": 28}
    [[failures, locked]] = topology.database.query(
        "SELECT failed_attempts, locked_until > now() FROM verification_phoneverification "
        f"WHERE phone = '{wrong['phone']}'"
    )
    assert (failures, locked) == ("3", "t")

    right = attacks["right_codes"]
    assert right["outcomes"]["/verified/"] == 1 and set(right["outcomes"]) <= {"/verified/", "200", "/"}
    assert topology.verified_events([right["phone"]]) == {right["phone"]: 1}

    one_number = attacks["one_number"]
    assert one_number["outcomes"] == {"/verify/": 20} and one_number["sms"] == 1
    [[send_count]] = topology.database.query(
        f"SELECT send_count FROM verification_phoneverification WHERE phone = '{one_number['phone']}'"
    )
    assert send_count == "1"

    # OTP_SEND_LIMITS_PER_IP's default, 10 an hour, counted in the one Redis both hosts share.
    one_address = attacks["one_address"]
    assert one_address["statuses"] == {"302": 10, "429": 30} and one_address["sms"] == 10
    assert all(0 < seconds <= 3600 for seconds in one_address["retry_after"])

    assert split["app1"] > 20 and split["app2"] > 20, split


def test_database_restarted_mid_run_shows_the_error_page_then_recovers(topology, report):
    assert not topology.apps.excuse_errors()
    sent_before = topology.sms_count()
    run = topology.flows_under_way(
        "--seconds", "8", "--warmup", "0", "--threads", "4", "--first-number", "5000000", "--first-address", "900"
    )
    try:
        wait_until(lambda: topology.sms_count() >= sent_before + 10, "10 flows under way", timeout=30)
        topology.database.stop()
        stopped = time.monotonic()
        try:
            down = topology.client("outage", "--source", VISITORS[4], "--phone", "+33612340004")
        finally:
            topology.database.start()
        restarted = time.monotonic()
        recovered = topology.client(
            "recover", "--outbox", str(topology.apps.outbox), "--source", VISITORS[5], "--first-number", "1"
        )
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
        # The outage's tracebacks are this test's to judge, not the module's teardown's.
        logged = topology.apps.excuse_errors()
    assert run.returncode == 0, err
    flows = json.loads(out.splitlines()[-1])
    report(
        "database restart",
        {
            "down_s": round(restarted - stopped, 2),
            "while_down": down,
            "first_verification_after_start": recovered,
            "run": {"completed": len(flows["completed"]), "errors_seen": flows["errors_seen"]},
        },
    )
    assert down["/healthz"]["status"] == 503 and '"database": "error"' in down["/healthz"]["body"]
    assert down["POST /"] == {"status": 500, "site_error_page": True}
    assert recovered["recovered"] and recovered["seconds"] < 10
    # The run's visitors got the site's error pages while the database was down, nothing else, and carried on:
    # its 500, or its 400 where the database failed as Django saved a changed session (SessionInterrupted).
    assert set(flows["errors_seen"]) <= {"500 site page", "400 site page"}, flows["errors_seen"]
    assert len(flows["completed"]) > 10
    # Each request that failed logged why: the database could not be reached (or dropped the connection).
    assert logged and all("OperationalError" in error or "InterfaceError" in error for error in logged), logged


def flows_per_second(topology: Topology, first: int, address: int, direct: bool = False) -> dict:
    """Run complete verifications for RUN_SECONDS; return the rate and each host's processor time per flow."""
    args = ["flows", "--outbox", str(topology.apps.outbox), "--seconds", str(RUN_SECONDS), "--threads", "8"]
    args += ["--first-number", str(first), "--first-address", str(address)]
    hosts = ("edge", "app1", "app2", "data")
    cpu = {host: topology.net.cpu_seconds(host) for host in hosts}
    if direct:
        # From the edge host, where nginx would be, straight to one gunicorn (the client's time is its own).
        run = topology.client(*args, "--direct", host="edge", url=f"http://{HOSTS['app1']}:8000")
    else:
        run = topology.client(*args)
    assert not run["failed"], run["errors_seen"]
    flows = len(run["completed"])
    cpu_ms = {host: round((topology.net.cpu_seconds(host) - cpu[host]) * 1000 / flows, 1) for host in hosts}
    names = {"edge": "nginx", "app1": "gunicorn app1", "app2": "gunicorn app2", "data": "postgres+redis"}
    cpu_ms = {names[host]: ms for host, ms in cpu_ms.items()}
    cpu_ms["client"] = round(run["cpu_seconds"] * 1000 / flows, 1)
    if direct:
        cpu_ms["nginx"] = 0.0
    return {"flows_per_s": round(run["per_second"], 1), "completed": flows, "cpu_ms_per_flow": cpu_ms}


def test_throughput_through_nginx_and_direct(topology, report):
    direct = flows_per_second(topology, 1_000_000, 0, direct=True)
    two_hosts = flows_per_second(topology, 2_000_000, 250)
    FIGURES["throughput"] = {"direct_gunicorn_app1": direct, "nginx_two_hosts": two_hosts}
    report("throughput", FIGURES["throughput"])
    assert direct["flows_per_s"] > 0 and two_hosts["flows_per_s"] > 0


def test_an_app_host_killed_mid_run(topology, report):
    sent_before = topology.sms_count()
    served_before = topology.apps.requests_served("app2")
    run = topology.flows_under_way(
        "--count", "150", "--threads", "6", "--first-number", "3000000", "--first-address", "500"
    )
    try:
        wait_until(lambda: topology.sms_count() >= sent_before + 50, "50 flows under way", timeout=60)
        topology.net.kill_host("app1")
        killed_at_sms = topology.sms_count() - sent_before
        out, err = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 0, err
    result = json.loads(out.splitlines()[-1])
    completed, failed = result["completed"], [phone for phone, _ in result["failed"]]
    counted = topology.verified_events(completed + failed)
    figures = {
        "flows_completed": len(completed),
        "flows_failed_and_retried": len(failed),
        "errors_seen": result["errors_seen"],
        "killed_after_sms": killed_at_sms,
        "failed_flows_verified_server_side": sum(counted.get(phone, 0) for phone in failed),
        "counted_twice": sum(1 for count in counted.values() if count > 1),
        "app2_requests": topology.apps.requests_served("app2") - served_before,
    }
    report("app host killed", figures)
    assert len(completed) >= 150
    assert all(counted.get(phone) == 1 for phone in completed)
    assert figures["counted_twice"] == 0
    # The requests app1 was serving when it died get nginx's 502; nothing hangs, nothing else fails.
    assert set(result["errors_seen"]) <= {"502 nginx page", "504 nginx page"}, result["errors_seen"]


def test_throughput_with_one_host_left(topology, report):
    # app1 stays dead from the test before; nginx tries it once per fail_timeout and passes on at once.
    topology.net.kill_host("app1")
    one_host = flows_per_second(topology, 4_000_000, 750)
    FIGURES.setdefault("throughput", {})["nginx_one_host"] = one_host
    report("throughput", FIGURES["throughput"])
    assert one_host["flows_per_s"] > 0
