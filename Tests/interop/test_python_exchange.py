"""The Python node's ExchangePoint (python/gossipfl_py/exchange.py) against the Swift one's
contract (Tests/TrainingNodeTests/ExchangePointTests.swift), with threads instead of tasks."""

import os
import sys
import threading
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

from gossipfl_py import mixing  # noqa: E402
from gossipfl_py.exchange import ExchangePoint, ModelBox, Refused  # noqa: E402


def f32(*values):
    return np.array(values, dtype=np.float32)


def wire(*values):
    return mixing.values_to_bytes(f32(*values))


def in_thread(fn, *args):
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("value", fn(*args)), daemon=True)
    thread.start()
    return thread, out


def code_of(fn):
    try:
        fn()
    except Refused as refused:
        return refused.code
    return None


def test_a_parked_loop_averages_with_its_partner_and_answers_with_its_own_values():
    box = ModelBox(f32(0, 10, 20, 30))
    point = ExchangePoint(box)
    point.enter(5)
    thread, out = in_thread(point.await_partner, 5, "n2", np.array([1, 3]), 10)
    # The request may come before the loop parks: it waits for it.
    mine = point.exchange(5, "n2", wire(12, 34), 10)
    thread.join(5)
    assert out["value"] == 8 and mine == wire(10, 30)
    assert box.parameters.tolist() == [0, 11, 20, 32]
    assert code_of(lambda: point.exchange(5, "n2", wire(1, 1), 1)) == "FAILED_PRECONDITION"


def test_refusals_leave_the_model_untouched():
    box = ModelBox(f32(0, 10, 20, 30))
    point = ExchangePoint(box)
    assert code_of(lambda: point.exchange(0, "n2", wire(1, 1), 1)) == "UNAVAILABLE"
    point.enter(7)
    thread, out = in_thread(point.await_partner, 7, "n2", np.array([0, 2]), 5)
    time.sleep(0.05)
    assert code_of(lambda: point.exchange(7, "n3", wire(1, 1), 1)) == "FAILED_PRECONDITION"
    assert code_of(lambda: point.exchange(7, "n2", wire(1, float("nan")), 1)) == "INVALID_ARGUMENT"
    assert code_of(lambda: point.exchange(7, "n2", wire(1), 1)) == "INVALID_ARGUMENT"
    assert code_of(lambda: point.exchange(6, "n2", wire(1, 1), 1)) == "FAILED_PRECONDITION"
    assert box.parameters.tolist() == [0, 10, 20, 30]
    point.exchange(7, "n2", wire(2, 4), 1)
    thread.join(5)
    assert out["value"] == 8 and box.parameters.tolist() == [1, 10, 12, 30]


def test_a_partner_that_never_comes_is_missed_and_a_late_one_refused():
    point = ExchangePoint(ModelBox(f32(1, 2)))
    point.enter(3)
    start = time.monotonic()
    assert point.await_partner(3, "n2", np.array([0]), 0.1) is None
    assert time.monotonic() - start < 5
    assert code_of(lambda: point.exchange(3, "n2", wire(9), 1)) == "FAILED_PRECONDITION"
    # A request for a round this peer does not reach in time is given up on both sides.
    assert code_of(lambda: point.exchange(4, "n2", wire(9), 0.05)) == "DEADLINE_EXCEEDED"
    point.enter(4)
    assert point.await_partner(4, "n2", np.array([0]), 10) is None


def test_a_ring_round_gathers_every_calling_neighbour_and_ends_with_what_came():
    box = ModelBox(f32(1, 2, 3))
    point = ExchangePoint(box)
    point.enter(4)
    mine = wire(1, 2, 3)
    thread, out = in_thread(point.gather, 4, {"a", "b"}, mine, 3, 10)
    assert point.exchange(4, "a", wire(4, 5, 6), 10) == mine
    assert code_of(lambda: point.exchange(4, "a", wire(4, 5, 6), 1)) == "FAILED_PRECONDITION"
    assert code_of(lambda: point.exchange(4, "c", wire(4, 5, 6), 1)) == "FAILED_PRECONDITION"
    assert code_of(lambda: point.exchange(4, "b", wire(4, float("inf"), 6), 1)) == "INVALID_ARGUMENT"
    assert point.exchange(4, "b", wire(7, 8, 9), 1) == mine
    thread.join(5)
    assert out["value"] == {"a": wire(4, 5, 6), "b": wire(7, 8, 9)} and box.parameters.tolist() == [1, 2, 3]
    # A neighbour that never calls: the round ends with what came, when the timeout passes.
    point.enter(5)
    thread, out = in_thread(point.gather, 5, {"a", "b"}, mine, 3, 0.3)
    point.exchange(5, "b", wire(3, 3, 3), 5)
    thread.join(5)
    assert list(out["value"]) == ["b"]
    # One that gave up before this peer arrived is not waited for.
    assert code_of(lambda: point.exchange(6, "a", wire(3, 3, 3), 0.05)) == "DEADLINE_EXCEEDED"
    point.enter(6)
    start = time.monotonic()
    assert point.gather(6, {"a"}, mine, 3, 10) == {} and time.monotonic() - start < 5


def test_model_copies_are_taken_where_the_loop_does_not_write():
    box = ModelBox(f32(1, 2, 3))
    point = ExchangePoint(box)
    point.enter(9)
    thread, out = in_thread(point.model_copy, 10)
    time.sleep(0.02)
    box.parameters[:] = f32(4, 5, 6)
    point.serve_copies(10)
    thread.join(5)
    values, round_ = out["value"]
    assert values.tolist() == [4, 5, 6] and round_ == 10
    assert point.model_copy(0.05) is None
