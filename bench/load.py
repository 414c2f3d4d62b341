"""Closed-loop load: client threads repeat a step over HTTP for a timed window and record rates and latencies."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.http_client import HttpClient

#: Set up a client (untimed) and return its state.
Setup = Callable[[HttpClient], Any]
#: Do one timed operation with a client and its state; return an outcome label. Raise on a wrong answer.
Step = Callable[[HttpClient, Any], str]


@dataclass
class Group:
    """Clients that all run the same step; `pace` seconds between starts makes them a probe instead of a load."""

    name: str
    clients: int
    step: Step
    setup: Setup | None = None
    pace: float = 0.0


@dataclass
class Result:
    """What one group did inside the measured window."""

    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    errors: int = 0
    first_error: str = ""

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Operations completed per second."""
        return self.count / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        """Return the p-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
        return ordered[rank] * 1000


def run(port: int, groups: list[Group], seconds: float, warmup: float) -> dict[str, Result]:
    """Run every group at once against 127.0.0.1:port; count what finishes between warmup and warmup + seconds."""
    results = {g.name: Result(g.name, seconds) for g in groups}
    lock = threading.Lock()
    threads = sum(g.clients for g in groups)
    ready = threading.Barrier(threads + 1)
    window: list[float] = []
    go = threading.Event()

    def client_loop(group: Group, index: int) -> None:
        client = HttpClient("127.0.0.1", port)
        result = results[group.name]
        state = None
        setup_error = ""
        try:
            state = group.setup(client) if group.setup else None
        except Exception as exc:  # noqa: BLE001 - a failed setup is reported, not raised in a thread
            setup_error = f"setup: {exc!r}"
        ready.wait()
        go.wait()
        if setup_error:
            with lock:
                result.errors += 1
                result.first_error = result.first_error or setup_error
            return
        start, end = window
        next_start = start - warmup + index * group.pace / max(group.clients, 1)
        latencies, outcomes, errors, first_error = [], Counter(), 0, ""
        while True:
            if group.pace:
                delay = next_start - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                # A probe that fell behind carries on at its pace instead of catching up in a burst.
                next_start = max(next_start + group.pace, time.perf_counter())
            began = time.perf_counter()
            if began >= end:
                break
            try:
                outcome = group.step(client, state)
            except Exception as exc:  # noqa: BLE001 - every failure is counted, warm-up included, and the first shown
                client.close()
                errors += 1
                first_error = first_error or repr(exc)
                continue
            finished = time.perf_counter()
            if start <= finished <= end:
                latencies.append(finished - began)
                outcomes[outcome] += 1
        client.close()
        with lock:
            result.latencies.extend(latencies)
            result.outcomes.update(outcomes)
            result.errors += errors
            result.first_error = result.first_error or first_error

    workers = [
        threading.Thread(target=client_loop, args=(g, i), name=f"{g.name}-{i}", daemon=True)
        for g in groups
        for i in range(g.clients)
    ]
    for worker in workers:
        worker.start()
    # The window opens once every client has finished its setup.
    ready.wait()
    now = time.perf_counter()
    window.extend([now + warmup, now + warmup + seconds])
    go.set()
    for worker in workers:
        worker.join()
    return results
