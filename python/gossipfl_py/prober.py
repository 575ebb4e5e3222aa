"""Bandwidth probing: Sources/Gossip/LinkMeasurements.swift (LinkMeasurements) and the measuring
and reporting half of Sources/TrainingNode/BandwidthProber.swift, in a thread.

A Python node is never the Raft leader, so it never commits the bandwidth matrix: it only
measures its throughput to the other participants with gossip.v1 Probe, one peer at a time, and
proposes a `Report` when its view changed materially. The leader (a Swift peer) builds the matrix
SAPS plans with from the committed reports.
"""

import math
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from .codec import Report

# BandwidthProber.swift: a probe is sized to take about PROBE_TIME seconds, within these bounds.
PROBE_TIME = 0.025
MIN_PROBE_BYTES = 16 << 10
MAX_PROBE_BYTES = 1 << 20
# BandwidthProber.swift: the Probe call's deadline, the least time between two reports, and how
# long one report proposal may take.
PROBE_TIMEOUT = 5.0
REPORT_SPACING = 2.0
REPORT_WITHIN = 2.0


class LinkMeasurements:
    """A peer's measured throughput to each other peer: the median of the last `window` samples
    per link, so one slow or lucky probe does not move the estimate."""

    def __init__(self, window: int = 5):
        if window < 1:
            raise ValueError("window must be at least 1, not %d" % window)
        self.window = window
        self._samples: Dict[str, List[float]] = {}

    def record(self, peer: str, byte_count: int, seconds: float) -> None:
        """One probe: `byte_count` moved in `seconds`. Probes that say nothing (no bytes, no
        time, NaN or infinite time) are ignored."""
        if not (byte_count > 0 and seconds > 0 and math.isfinite(seconds)):
            return
        samples = self._samples.setdefault(peer, [])
        samples.append(float(byte_count) / 1e6 / seconds)
        if len(samples) > self.window:
            del samples[:len(samples) - self.window]

    def megabytes_per_second(self, peer: str) -> Optional[float]:
        """MB/s to `peer`, or None before any probe."""
        samples = self._samples.get(peer)
        if not samples:
            return None
        ordered = sorted(samples)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 == 1 else (ordered[middle - 1] + ordered[middle]) / 2

    @property
    def report(self) -> Dict[str, float]:
        """Every measured link, as a gossip.v1 BandwidthReport carries it."""
        return {peer: self.megabytes_per_second(peer) for peer in self._samples}


def probe_size(rate: float) -> int:
    """Bytes each way for the next probe of a link measured at `rate` MB/s: about PROBE_TIME's
    worth, within [MIN_PROBE_BYTES, MAX_PROBE_BYTES]. (Swift truncates, then clamps; clamping
    first gives the same integer for every finite rate and cannot overflow.)"""
    return int(min(float(MAX_PROBE_BYTES), max(float(MIN_PROBE_BYTES), rate * 1e6 * PROBE_TIME)))


def changed_materially(links: Dict[str, float], last_report: Dict[str, float]) -> bool:
    """`reportIfChanged`'s rule: a link not in the last committed report, or one that moved by
    more than 0.1 MB/s and by more than a quarter of the larger of the two values."""
    for peer, rate in links.items():
        old = last_report.get(peer)
        if old is None:
            return True
        change = abs(rate - old)
        if change > 0.1 and change > 0.25 * max(rate, old):
            return True
    return False


# probe(address, byte_count) -> (reply payload bytes, seconds the call took); raises on failure.
ProbeCall = Callable[[str, int], Tuple[int, float]]


def grpc_probe(channels, node_id: str, timeout: float = PROBE_TIMEOUT) -> ProbeCall:
    """A ProbeCall over gossip.v1 Probe through `channels` (cluster.Channels, or anything with
    `get(address)` returning a grpc channel): `byte_count` zeros each way, timed around the
    call alone as BandwidthProber.swift does (the request is built before the clock starts)."""
    from . import protos
    pb2, pb2_grpc = protos.gossip()

    def probe(address: str, byte_count: int) -> Tuple[int, float]:
        request = pb2.ProbeRequest(sender_id=node_id, payload=bytes(byte_count), reply_bytes=byte_count)
        stub = pb2_grpc.GossipStub(channels.get(address))
        started = time.monotonic()
        reply = stub.Probe(request, timeout=timeout)
        return len(reply.payload), time.monotonic() - started
    return probe


class Prober:
    """Every `interval` seconds, probes the next other participant in turn, publishes the
    measured links (`links()`, for the status) and proposes a Report when they changed
    materially. Runs beside the rounds in its own thread, never in them.

    participants() -> the node ids training in round max(0, horizon - 1) (read from the
                      ledger under the follower's lock);
    address_of(node) -> where `node` serves gossip.v1, or None;
    probe: a ProbeCall (grpc_probe in a peer, a stub in tests);
    propose(event) -> True once the entry is committed (within REPORT_WITHIN seconds);
    clock: monotonic seconds, for the report spacing."""

    def __init__(self, node_id: str, interval: float, participants: Callable[[], List[str]],
                 address_of: Callable[[str], Optional[str]], probe: ProbeCall, propose: Callable[[Report], bool],
                 clock: Callable[[], float] = time.monotonic, log: Optional[Callable[[str], None]] = None):
        if not interval > 0:
            raise ValueError("the probe interval must be positive, not %r" % interval)
        self.node_id, self.interval = node_id, interval
        self.participants, self.address_of, self.probe, self.propose = participants, address_of, probe, propose
        self.clock, self.log = clock, log
        self.measurements = LinkMeasurements(window=5)
        # Bytes each way per probe and link (absent: the first, smallest probe).
        self.probe_bytes: Dict[str, int] = {}
        self.last_report: Dict[str, float] = {}
        self.last_report_at: Optional[float] = None
        self.next = 0
        self._links: Dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # -- the thread -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="bandwidth-prober", daemon=True)
        self._thread.start()

    def stop(self, join_timeout: Optional[float] = None) -> None:
        self._stop.set()
        if join_timeout is not None and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(join_timeout)

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.step()
            except Exception as error:  # a ledger or proposer surprise must not end the probing
                if self.log is not None:
                    self.log("bandwidth probing: %s" % error)

    # -- one period (the body of BandwidthProber.run's loop, after the sleep) --------------------

    def step(self) -> None:
        others = [node for node in self.participants() if node != self.node_id]
        if others:
            self.probe_once(others[self.next % len(others)])
            self.next += 1
        links = self.measurements.report
        with self._lock:
            self._links = dict(links)
        self.report_if_changed(links)

    def probe_once(self, other: str) -> None:
        address = self.address_of(other)
        if address is None:
            return
        # The first probe of a link is the smallest: it must not flood a slow link before we know it is slow.
        byte_count = self.probe_bytes.get(other, MIN_PROBE_BYTES)
        try:
            reply_bytes, seconds = self.probe(address, byte_count)
        except Exception:
            return  # BandwidthProber.swift logs this at debug level only: a down peer is no news
        self.measurements.record(other, byte_count + reply_bytes, seconds)
        rate = self.measurements.megabytes_per_second(other)
        if rate is not None:
            self.probe_bytes[other] = probe_size(rate)

    def report_if_changed(self, links: Dict[str, float]) -> None:
        if not links:
            return
        if self.last_report_at is not None and self.clock() - self.last_report_at < REPORT_SPACING:
            return
        if not changed_materially(links, self.last_report):
            return
        self.last_report_at = self.clock()
        if self.propose(Report(self.node_id, dict(links))):
            self.last_report = dict(links)

    def links(self) -> Dict[str, float]:
        """The measured links (peer -> MB/s) as of the last period, for the status."""
        with self._lock:
            return dict(self._links)
