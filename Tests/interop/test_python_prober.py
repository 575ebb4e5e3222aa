"""The Python node's bandwidth probing (python/gossipfl_py/prober.py) against the Swift contract:
LinkMeasurements as Tests/GossipTests/LinkMeasurementsTests.swift checks it, and the probe
sizing, report rule and probing walk of Sources/TrainingNode/BandwidthProber.swift. Pure: no
processes, no network (the probe is a stub; gRPC goes through a fake channel)."""

import math
import os
import sys
import threading
import time

import grpc
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

from gossipfl_py.codec import Report, command_from_event, event_from_command  # noqa: E402
from gossipfl_py.prober import (MAX_PROBE_BYTES, MIN_PROBE_BYTES, LinkMeasurements, Prober, changed_materially,  # noqa: E402
                                grpc_probe, probe_size)


# -- LinkMeasurements (LinkMeasurementsTests.theMedianOfTheLastSamplesIgnoringNonsense) ---------

def test_the_median_of_the_last_samples_ignoring_nonsense():
    links = LinkMeasurements(window=3)
    assert links.megabytes_per_second("b") is None
    links.record("b", 10_000_000, 1)  # 10 MB/s
    links.record("b", 1_000_000, 1)   # 1: a slow probe
    links.record("b", 24_000_000, 2)  # 12
    assert links.megabytes_per_second("b") == 10
    links.record("b", 0, 1)
    links.record("b", 5, 0)
    links.record("b", 5, math.nan)
    assert links.megabytes_per_second("b") == 10
    links.record("b", 30_000_000, 2)  # 15: the 10 falls out of the window
    assert links.megabytes_per_second("b") == 12
    links.record("c", 3_000_000, 1)
    links.record("c", 5_000_000, 1)
    assert links.report == {"b": 12, "c": 4}


def test_more_nonsense_is_ignored_and_the_window_defaults_to_five():
    links = LinkMeasurements()
    assert links.window == 5
    for bad in [(-1, 1.0), (5, -1.0), (5, math.inf), (5, -math.inf)]:
        links.record("b", *bad)
    assert links.megabytes_per_second("b") is None and links.report == {}
    for rate in [1, 2, 3, 4, 5, 100]:  # six samples: the 1 falls out
        links.record("b", rate * 1_000_000, 1)
    assert links.megabytes_per_second("b") == 4
    links.record("b", 200_000_000, 1)  # [3, 4, 5, 100, 200]
    assert links.megabytes_per_second("b") == 5
    with pytest.raises(ValueError):
        LinkMeasurements(window=0)


def test_an_even_count_takes_the_mean_of_the_middle_two():
    links = LinkMeasurements(window=4)
    for mb in [8, 2, 4, 6]:
        links.record("x", mb * 1_000_000, 1)
    assert links.megabytes_per_second("x") == 5
    links.record("y", 1_000_000, 1)
    assert links.megabytes_per_second("y") == 1


def test_a_sample_is_megabytes_over_seconds_in_swifts_order():
    links = LinkMeasurements()
    links.record("b", 12_345, 0.0031)
    assert links.megabytes_per_second("b") == 12_345.0 / 1e6 / 0.0031


# -- probe sizing --------------------------------------------------------------------------------

def test_probes_take_about_25_ms_within_16_kib_and_1_mib():
    assert probe_size(10) == 250_000                 # 10 MB/s: 0.25 MB in 25 ms
    assert probe_size(0.001) == MIN_PROBE_BYTES == 16 << 10
    assert probe_size(0.65536) == MIN_PROBE_BYTES    # exactly the floor
    assert probe_size(1000) == MAX_PROBE_BYTES == 1 << 20
    assert probe_size(3.3333333) == int(3.3333333 * 1e6 * 0.025)  # truncated, as Int(Double)
    assert probe_size(math.inf) == MAX_PROBE_BYTES
    assert isinstance(probe_size(10), int)


# -- the report rule -----------------------------------------------------------------------------

def test_only_material_changes_are_worth_a_report():
    last = {"b": 10.0, "c": 0.05}
    assert not changed_materially(last, last)
    assert not changed_materially({"b": 11.0, "c": 0.05}, last)      # 10%: noise
    assert changed_materially({"b": 14.0, "c": 0.05}, last)          # 4 > 0.25 * 14
    assert changed_materially({"b": 7.0, "c": 0.05}, last)           # down by 3 > 0.25 * 10
    assert not changed_materially({"b": 10.0, "c": 0.12}, last)      # more than doubled, under the 0.1 floor
    assert changed_materially({"b": 10.0, "c": 0.05, "d": 1.0}, last)  # a link never reported
    assert changed_materially({"b": 10.0}, {})
    assert not changed_materially({"b": 10.0}, last)                 # a link gone from the view is no change
    assert not changed_materially({}, last)


# -- the Prober, with a stub probe and a fake clock -----------------------------------------------

class Stub:
    """A probe that moves `rate[peer]` MB/s both ways and records what it was asked."""

    def __init__(self, rates, down=()):
        self.rates, self.down, self.calls = dict(rates), set(down), []

    def __call__(self, address, byte_count):
        self.calls.append((address, byte_count))
        peer = address.split(":")[0]
        if peer in self.down:
            raise grpc.RpcError()
        return byte_count, 2 * byte_count / 1e6 / self.rates[peer]


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def make_prober(stub, members=("a", "b", "c"), addresses=None, outcomes=None, clock=None):
    proposals = []
    outcomes = list(outcomes or [])
    addresses = addresses if addresses is not None else {m: m + ":1" for m in members}

    def propose(event):
        proposals.append(event)
        return outcomes.pop(0) if outcomes else True
    prober = Prober("a", 1.0, lambda: list(members), addresses.get, stub, propose, clock=clock or Clock())
    return prober, proposals


def test_probes_walk_the_others_in_turn_first_small_then_sized():
    stub = Stub({"b": 10.0, "c": 100.0})
    prober, _ = make_prober(stub)
    for _ in range(4):
        prober.step()
    # Never itself; b, c, b, c; the first probe of each link 16 KiB, the next sized from the median.
    assert stub.calls == [("b:1", MIN_PROBE_BYTES), ("c:1", MIN_PROBE_BYTES), ("b:1", 250_000), ("c:1", 1 << 20)]
    links = prober.links()
    assert set(links) == {"b", "c"}
    assert links["b"] == pytest.approx(10.0) and links["c"] == pytest.approx(100.0)


def test_a_probe_counts_both_directions_over_the_round_trip():
    # Asked for 16 KiB each way, the peer answers 1000 bytes, all in 10 ms.
    prober, _ = make_prober(lambda address, n: (1000, 0.010), members=("a", "b"))
    prober.step()
    assert prober.links() == {"b": (MIN_PROBE_BYTES + 1000) / 1e6 / 0.010}
    assert prober.probe_bytes["b"] == probe_size((MIN_PROBE_BYTES + 1000) / 1e6 / 0.010)


def test_failed_and_unaddressed_probes_measure_nothing_but_the_walk_goes_on():
    stub = Stub({"c": 10.0, "d": 10.0}, down={"c"})
    prober, proposals = make_prober(stub, members=("a", "b", "c", "d"), addresses={"c": "c:1", "d": "d:1"})
    for _ in range(3):
        prober.step()  # b: no address, c: down, d: measured
    assert stub.calls == [("c:1", MIN_PROBE_BYTES), ("d:1", MIN_PROBE_BYTES)]
    assert set(prober.links()) == {"d"} and "c" not in prober.probe_bytes
    assert [p.mbps.keys() for p in proposals] == [{"d"}]


def test_nobody_else_means_no_probe_and_no_report():
    stub = Stub({})
    prober, proposals = make_prober(stub, members=("a",))
    prober.step()
    prober, proposals2 = make_prober(stub, members=())
    prober.step()
    assert stub.calls == [] and proposals == [] and proposals2 == [] and prober.links() == {}


def test_reports_are_spaced_material_and_retried_until_committed():
    clock = Clock()
    stub = Stub({"b": 10.0})
    prober, proposals = make_prober(stub, members=("a", "b"), outcomes=[False, True], clock=clock)
    prober.step()  # the first measurement: proposed, but not committed
    assert proposals == [Report("a", {"b": pytest.approx(10.0)})]
    clock.now += 1.0
    prober.step()  # within 2 s of the last proposal: nothing
    assert len(proposals) == 1
    clock.now += 1.5
    prober.step()  # the last one failed, so b is still unreported: proposed again, committed
    assert len(proposals) == 2 and prober.last_report == proposals[1].mbps
    clock.now += 5
    stub.rates["b"] = 11.0  # the median moves by less than a quarter: no report
    prober.step()
    assert len(proposals) == 2
    stub.rates["b"] = 100.0  # three fast samples of five move the median: a report
    for _ in range(3):
        clock.now += 5
        prober.step()
    assert len(proposals) == 3 and proposals[2].mbps["b"] == pytest.approx(100.0)
    assert proposals[2].node == "a"
    # The proposed report is what a Swift peer commits.
    assert event_from_command(command_from_event(proposals[2])) == proposals[2]


def test_the_thread_probes_every_interval_until_stopped():
    stub = Stub({"b": 50.0})
    proposals = []
    prober = Prober("a", 0.01, lambda: ["a", "b"], {"b": "b:1"}.get, stub, lambda e: proposals.append(e) or True)
    prober.start()
    deadline = time.monotonic() + 5
    while len(stub.calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    prober.stop(join_timeout=2)
    assert not prober._thread.is_alive()
    assert len(stub.calls) >= 3 and len(proposals) == 1  # one report: the next ones are within 2 s
    assert prober.links()["b"] == pytest.approx(50.0)
    with pytest.raises(ValueError):
        Prober("a", 0, lambda: [], {}.get, stub, lambda e: True)


def test_the_thread_survives_a_failing_ledger_read():
    calls, logged = [], []

    def participants():
        calls.append(1)
        raise RuntimeError("no ledger")
    prober = Prober("a", 0.01, participants, {}.get, Stub({}), lambda e: True, log=logged.append)
    prober.start()
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    prober.stop(join_timeout=2)
    assert len(calls) >= 2 and logged and "no ledger" in logged[0]


# -- the gRPC probe, through a fake channel -------------------------------------------------------

class FakeChannel:
    """Enough of grpc.Channel for a generated stub's unary call; answers Probe as service.py does."""

    def __init__(self, log):
        self.log = log

    def unary_unary(self, method, request_serializer=None, response_deserializer=None, **_):
        def call(request, timeout=None, **__):
            wire = request_serializer(request)
            self.log.append((method, wire, timeout))
            from gossipfl_py import protos
            pb2 = protos.gossip().pb2
            parsed = pb2.ProbeRequest.FromString(wire)
            return response_deserializer(pb2.ProbeResponse(payload=bytes(parsed.reply_bytes)).SerializeToString())
        return call

    def __getattr__(self, name):  # stream methods the stub also builds, never called here
        return lambda *a, **k: (lambda *b, **c: None)


class FakeChannels:
    def __init__(self):
        self.log, self.asked = [], []

    def get(self, address):
        self.asked.append(address)
        return FakeChannel(self.log)


def test_the_grpc_probe_sends_zeros_and_asks_for_as_many_back():
    from gossipfl_py import protos
    pb2 = protos.gossip().pb2
    channels = FakeChannels()
    reply_bytes, seconds = grpc_probe(channels, "py1")("10.0.0.2:7300", 40_000)
    assert channels.asked == ["10.0.0.2:7300"]
    [(method, wire, timeout)] = channels.log
    assert method.endswith("/Probe") and timeout == 5.0
    request = pb2.ProbeRequest.FromString(wire)
    assert request.sender_id == "py1" and request.payload == bytes(40_000) and request.reply_bytes == 40_000
    assert reply_bytes == 40_000 and 0 <= seconds < 5


def test_a_peer_status_lists_the_links_sorted_by_peer():
    from gossipfl_py.peer import PeerOptions, PythonPeer

    class Follower:
        lock = threading.Lock()
    peer = PythonPeer(PeerOptions("py1", "", "", ""), Follower(), None, FakeChannels(), False, lambda m: None)
    assert list(peer.training_status().link_peers) == [] and peer.options.probe_interval == 1.0
    peer.prober = Prober("py1", 1.0, lambda: [], {}.get, Stub({}), lambda e: True)
    peer.prober._links = {"zed": 3.0, "b": 1.5, "a2": 2.25}
    status = peer.training_status()
    assert list(status.link_peers) == ["a2", "b", "zed"] and list(status.link_mbps) == [2.25, 1.5, 3.0]


def test_the_command_line_takes_the_probe_interval():
    from gossipfl_py.__main__ import parser
    base = ["peer", "--id", "py1", "--listen", "127.0.0.1:0", "--data-dir", "d"]
    assert parser().parse_args(base).probe_interval_ms == 1000
    assert parser().parse_args(base + ["--probe-interval-ms", "0"]).probe_interval_ms == 0
