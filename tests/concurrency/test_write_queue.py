"""The SQLite write queue: a process's threads take the write lock in arrival order, the processes of a host take
turns through the turnstile, and a lock taken outside both (another program) is still waited for in SQLite's busy
handler, bounded by the timeout."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from tests.helpers import T0
from verification.db.turnstile import WAITING, Turnstile
from verification.db.write_queue import WriteQueue, queue_for
from verification.models import RateEvent

sqlite_only = pytest.mark.sqlite_only


def wait_until(condition, seconds: float = 10.0) -> None:
    """Spin (yielding the processor, not sleeping) until `condition()` holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        os.sched_yield()


def test_threads_get_their_turn_in_the_order_they_came():
    queue = WriteQueue()
    assert queue.acquire(1)
    order: list[int] = []
    threads = []
    for i in range(5):
        thread = threading.Thread(target=lambda i=i: (queue.acquire(10), order.append(i), queue.release()))
        thread.start()
        threads.append(thread)
        # The next thread starts only once this one waits: arrival order is 0, 1, 2, 3, 4.
        wait_until(lambda n=i + 1: queue.waiting() == n)
    queue.release()
    for thread in threads:
        thread.join()
    assert order == [0, 1, 2, 3, 4]
    # Everyone gave the turn back: the next thread takes it at once.
    assert queue.acquire(0)


def test_a_thread_that_waits_too_long_leaves_the_queue_and_the_others_keep_their_places():
    queue = WriteQueue()
    assert queue.acquire(1)
    assert not queue.acquire(0.01)
    assert queue.waiting() == 0
    queue.release()
    assert queue.acquire(0)


def test_one_queue_per_database_file(tmp_path):
    assert queue_for(str(tmp_path / "a.sqlite3")) is queue_for(str(tmp_path / "." / "a.sqlite3"))
    assert queue_for(str(tmp_path / "a.sqlite3")) is not queue_for(str(tmp_path / "b.sqlite3"))


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_second_thread_waits_in_the_queue_not_in_sqlite_then_writes():
    assert connection.settings_dict["ENGINE"] == "verification.db.sqlite3"
    queue = connection.write_queue
    written = threading.Event()

    def second() -> None:
        try:
            with transaction.atomic():
                RateEvent.objects.create(scope="number", key="second", at=T0)
            written.set()
        finally:
            connections["default"].close()

    with transaction.atomic():
        RateEvent.objects.create(scope="number", key="first", at=T0)
        thread = threading.Thread(target=second)
        thread.start()
        # It queues behind this transaction instead of polling SQLite's lock.
        wait_until(lambda: queue.waiting() == 1)
        assert not written.is_set()
    thread.join()
    assert written.is_set()
    assert list(RateEvent.objects.order_by("id").values_list("key", flat=True)) == ["first", "second"]
    assert queue.waiting() == 0


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_the_queue_wait_is_bounded_like_the_busy_timeout():
    failed: list[Exception] = []

    def second() -> None:
        try:
            with connections["default"].waiting_at_most(0.05), transaction.atomic():
                RateEvent.objects.create(scope="number", key="second", at=T0)
        except OperationalError as exc:
            failed.append(exc)
        finally:
            connections["default"].close()

    with transaction.atomic():
        RateEvent.objects.create(scope="number", key="first", at=T0)
        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
    assert len(failed) == 1 and "database is locked" in str(failed[0])
    assert not RateEvent.objects.filter(key="second").exists()
    # The one who gave up left the queue: the next transaction begins at once.
    with transaction.atomic():
        RateEvent.objects.create(scope="number", key="third", at=T0)


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_another_process_holding_the_lock_is_waited_for_in_sqlites_busy_handler():
    # Another process's connection: not in this process's queue, so SQLite's own lock and busy timeout decide.
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            with connection.waiting_at_most(0.05), transaction.atomic():
                RateEvent.objects.create(scope="number", key="blocked", at=T0)
        # Nobody is left holding this process's turn.
        assert connection.write_queue.waiting() == 0
        other.execute("ROLLBACK")
        with transaction.atomic():
            RateEvent.objects.create(scope="number", key="after", at=T0)
    finally:
        other.close()
    assert list(RateEvent.objects.values_list("key", flat=True)) == ["after"]


def _hold_the_turn(path: str, held, let_go, done) -> None:
    """In another process: take the turnstile, say so, give it back when told."""
    turnstile = Turnstile(path)
    if turnstile.acquire(5):
        held.set()
        let_go.wait(10)
        turnstile.release()
    done.set()


def _wait_for_the_turn(path: str, got) -> None:
    """In another process: wait for the turnstile, say when it came, give it back."""
    turnstile = Turnstile(path)
    if turnstile.acquire(10):
        got.set()
        turnstile.release()


def test_another_process_holding_the_turn_is_waited_for_and_the_wait_is_bounded(tmp_path):
    fork = multiprocessing.get_context("fork")
    held, let_go, done = fork.Event(), fork.Event(), fork.Event()
    other = fork.Process(target=_hold_the_turn, args=(str(tmp_path / "db.sqlite3"), held, let_go, done))
    other.start()
    try:
        assert held.wait(10)
        turnstile = Turnstile(str(tmp_path / "db.sqlite3"))
        assert not turnstile.acquire(0.05)
        let_go.set()
        assert turnstile.acquire(5)
        turnstile.release()
    finally:
        let_go.set()
        other.join(10)


def test_a_process_giving_the_turn_back_lets_a_waiting_one_go_first(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    turnstile = Turnstile(path)
    assert turnstile.acquire(1)
    fork = multiprocessing.get_context("fork")
    got = fork.Event()
    other = fork.Process(target=_wait_for_the_turn, args=(path, got))
    other.start()
    try:
        # The other process says it waits (byte 1 held shared) once its first try failed.
        probe = os.open(path + "-turnstile", os.O_RDWR)
        wait_until(lambda: not _lock_free(probe, WAITING))
        turnstile.release()
        # Straight back: this process stands aside while the other takes its turn.
        assert not turnstile.acquire(0)
        assert got.wait(5)
        assert turnstile.acquire(5)
        turnstile.release()
    finally:
        other.join(10)
        os.close(probe)


def _lock_free(fd: int, byte: int) -> bool:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, byte)
    except OSError:
        return False
    fcntl.lockf(fd, fcntl.LOCK_UN, 1, byte)
    return True
