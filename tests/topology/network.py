"""A private network of Linux network namespaces on this machine: one per host, joined by a bridge."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

#: Every namespace and data folder a run makes starts with this and the pid of the process that made it.
PREFIX = "otptopo"
#: The test network's own range: it exists only inside the namespaces, so it cannot reach the machine's network.
SUBNET = ipaddress.ip_network("10.203.0.0/16")
#: Extra addresses of the client host, each a separate visitor to the per-IP limits (10 sends an hour by default).
CLIENT_POOL = [str(SUBNET[256 + i]) for i in range(1, 1000)]


def run(*command: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """Run a command and return what it printed; fail with what it said on stderr when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if check and done.returncode:
        raise RuntimeError(f"`{' '.join(command)}` exited with {done.returncode}:\n{done.stderr}{done.stdout}")
    return done


def namespace_pids(namespace: str) -> list[int]:
    """Return the processes running in a namespace now."""
    listed = run("ip", "netns", "pids", namespace, check=False).stdout.split()
    return [int(pid) for pid in listed]


def kill_namespace_processes(namespace: str, wait: float = 10.0) -> None:
    """SIGKILL every process in a namespace and wait until none is left."""
    deadline = time.monotonic() + wait
    while pids := namespace_pids(namespace):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes {pids} survived SIGKILL in {namespace}")
        time.sleep(0.05)


def remove_leftovers() -> list[str]:
    """Remove the namespaces and folders of earlier runs whose process is gone (a crash, a kill -9)."""
    removed = []
    for line in run("ip", "netns", "list").stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = re.fullmatch(rf"{PREFIX}(\d+)-\w+", name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            kill_namespace_processes(name)
            run("ip", "netns", "del", name, check=False)
            removed.append(name)
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        match = re.match(rf"{PREFIX}(\d+)-", folder.name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


class Network:
    """Namespaces named `<prefix>-<host>` on one bridge (in a namespace of its own), each with one address."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self.prefix = f"{PREFIX}{os.getpid()}"
        self.addresses = hosts
        self.switch = self.namespace("switch")
        self.made: list[str] = []

    def namespace(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def build(self) -> None:
        """Make the switch and every host, each with loopback up and its address on eth0."""
        self._add(self.switch)
        run("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", self.switch, "link", "set", "br0", "up")
        for index, (host, address) in enumerate(self.addresses.items()):
            namespace = self.namespace(host)
            self._add(namespace)
            port = f"port{index}"
            # Made straight into the two namespaces, so no name is ever taken in the root namespace.
            run(
                "ip",
                "link",
                "add",
                "name",
                "eth0",
                "netns",
                namespace,
                "type",
                "veth",
                "peer",
                "name",
                port,
                "netns",
                self.switch,
            )
            run("ip", "-n", self.switch, "link", "set", port, "master", "br0", "up")
            run("ip", "-n", namespace, "addr", "add", f"{address}/{SUBNET.prefixlen}", "dev", "eth0")
            run("ip", "-n", namespace, "link", "set", "eth0", "up")

    def add_addresses(self, host: str, addresses: Sequence[str]) -> None:
        """Give a host more addresses on its eth0, in one call."""
        batch = "".join(f"addr add {a}/{SUBNET.prefixlen} dev eth0\n" for a in addresses)
        run("ip", "-n", self.namespace(host), "-batch", "-", input=batch)

    def _add(self, namespace: str) -> None:
        run("ip", "netns", "add", namespace)
        self.made.append(namespace)
        run("ip", "-n", namespace, "link", "set", "lo", "up")

    def command(self, host: str, *command: str) -> list[str]:
        """Return `command` as run inside a host's namespace."""
        return ["ip", "netns", "exec", self.namespace(host), *command]

    def routes(self, host: str) -> list[str]:
        """Return the destinations a host can route to (IPv4 and IPv6)."""
        listed = run("ip", "-n", self.namespace(host), "route", "show").stdout.splitlines()
        listed += run("ip", "-n", self.namespace(host), "-6", "route", "show").stdout.splitlines()
        return [line.split()[0] for line in listed]

    def cpu_seconds(self, host: str) -> float:
        """Return the processor time the processes of a host have used so far."""
        ticks = 0
        for pid in namespace_pids(self.namespace(host)):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def kill_host(self, host: str) -> None:
        """Kill every process of a host at once, as a power cut would."""
        kill_namespace_processes(self.namespace(host))

    def destroy(self) -> None:
        """Kill every process in every namespace this network made, then remove the namespaces."""
        for namespace in reversed(self.made):
            kill_namespace_processes(namespace)
            run("ip", "netns", "del", namespace, check=False)
        self.made.clear()
