"""The training ledger every peer derives from the committed Raft log.

Mirrors `TrainingLedger` in Sources/Training/TrainingLedger.swift, with
`BandwidthAggregation.matrix` from Sources/Gossip/LinkMeasurements.swift. A node that applies
the same committed entries in the same order gets the same ledger as the Swift peers, ignored
entries and their reasons included. The run, the events and their TrainingCommand encoding are
in codec.py (re-exported here). Node ids compare as Python strings and sort as UTF-8 bytes.
"""

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from .codec import (  # noqa: F401  (re-exported: `from gossipfl_py.ledger import X` as before)
    ARCHITECTURES, DEFAULT_HORIZON_ROUNDS, MAX_BATCH_SIZE, MAX_ROUND, Admit, Algorithm, Bandwidth, Configure, Horizon,
    PartitionError, PartitionScheme, PeerAddress, Progress, Report, Retire, RunConfiguration, TrainingCommandError,
    TrainingEvent, command_from_event, event_from_command, swift_debug_description, swift_description,
)
from .matching import BandwidthMatrix, BandwidthMatrixError  # noqa: F401


# ---------------------------------------------------------------------------------------------
# LinkMeasurements.swift: BandwidthAggregation.matrix


def _unchecked_matrix(n: int, values: List[float]) -> BandwidthMatrix:
    """`BandwidthMatrix(workers:unchecked:)`: symmetric and valid by construction, 0 workers too."""
    matrix = BandwidthMatrix.__new__(BandwidthMatrix)
    matrix.workers = n
    matrix._values = values
    return matrix


def aggregate_bandwidth(workers: Sequence[str], reports: Mapping[str, Mapping[str, float]],
                        unmeasured: float) -> BandwidthMatrix:
    """`BandwidthAggregation.matrix`: the symmetric matrix over `workers` (in this order); a link
    takes the slower of its two directions' reports, the one report there is, or `unmeasured`."""
    unmeasured = float(unmeasured)
    if not (unmeasured >= 0 and math.isfinite(unmeasured)):  # Swift: precondition
        raise ValueError(f"unmeasured bandwidth must be finite and >= 0, got {unmeasured!r}")
    links = {(a, b): float(v) for a, row in reports.items() for b, v in row.items()}

    def usable(a: str, b: str) -> Optional[float]:
        value = links.get((a, b))
        return value if value is not None and math.isfinite(value) and value >= 0 else None

    n = len(workers)
    values = [0.0] * (n * n)
    for i in range(n):
        for j in range(i + 1, n):
            measured = [v for v in (usable(workers[i], workers[j]), usable(workers[j], workers[i])) if v is not None]
            values[i * n + j] = values[j * n + i] = min(measured) if measured else unmeasured
    return _unchecked_matrix(n, values)


# ---------------------------------------------------------------------------------------------
# TrainingLedger.swift


@dataclass(frozen=True)
class Participant:
    """A peer taking part in a round, and the data slot it trains on; ordered by node id as
    UTF-8 bytes (every peer numbers them the same way)."""

    node: str
    slot: int

    def __lt__(self, other: "Participant") -> bool:
        return self.node.encode() < other.node.encode()


class Outcome(NamedTuple):
    """`TrainingLedger.Outcome`: applied (reason None) or ignored, and why."""

    reason: Optional[str] = None

    @property
    def applied(self) -> bool:
        return self.reason is None

    @property
    def ignored(self) -> bool:
        return self.reason is not None


APPLIED = Outcome()


class Admission(NamedTuple):
    """A node's current admission: its slot and first round."""
    slot: int
    from_round: int


class MatrixEntry(NamedTuple):
    """A committed bandwidth matrix, its workers and the first round it is in force."""
    workers: Tuple[str, ...]
    matrix: BandwidthMatrix
    from_round: int


class ProgressEntry(NamedTuple):
    round: int
    accuracy: float


class _Span:
    """One admission of a node: its slot and the rounds [start, end), end None while open."""

    __slots__ = ("slot", "start", "end")

    def __init__(self, slot: int, start: int, end: Optional[int] = None) -> None:
        self.slot, self.start, self.end = slot, start, end


class TrainingLedger:
    """Mirrors `TrainingLedger`: the training state every peer derives from the same committed
    entries, in log order. An entry that does not fit is ignored identically on every peer and
    the reason returned.

    Rounds are gated by the committed `horizon`: admissions, retirements and matrices take
    effect no earlier than the horizon in force when they commit, so every peer has applied
    every change to a round before it plans that round.
    """

    def __init__(self) -> None:
        self._configuration: Optional[RunConfiguration] = None
        self._horizon = 0
        self._spans: Dict[str, List[_Span]] = {}  # its admissions in order
        self._matrices: List[MatrixEntry] = []
        self._progress: Dict[str, ProgressEntry] = {}
        self._reports: Dict[str, Dict[str, float]] = {}  # each node's latest
        self._external: Dict[str, str] = {}  # from each node's latest admission

    @property
    def configuration(self) -> Optional[RunConfiguration]:
        return self._configuration

    @property
    def horizon(self) -> int:
        return self._horizon

    @property
    def progress(self) -> Dict[str, ProgressEntry]:
        return dict(self._progress)

    @property
    def reports(self) -> Dict[str, Dict[str, float]]:
        """Each peer's latest bandwidth report."""
        return {node: dict(mbps) for node, mbps in self._reports.items()}

    @property
    def external_addresses(self) -> Dict[str, str]:
        """Where participants outside the Raft cluster serve gossip.v1."""
        return dict(self._external)

    def apply(self, event: TrainingEvent) -> Outcome:
        if isinstance(event, Configure):
            return self._configure(event.configuration)
        if isinstance(event, Admit):
            return self._admit(event.node, event.from_round, event.slot, event.address)
        if isinstance(event, Retire):
            return self._retire(event.node, event.from_round)
        if isinstance(event, Bandwidth):
            return self._bandwidth(event.workers, event.matrix, event.from_round)
        if isinstance(event, Progress):
            return self._record_progress(event.node, event.round, event.accuracy)
        if isinstance(event, Report):
            return self._report(event.node, event.mbps)
        if isinstance(event, Horizon):
            return self._extend_horizon(event.until_round)
        raise TypeError(f"not a training event: {event!r}")

    def _configure(self, configuration: RunConfiguration) -> Outcome:
        if self._configuration is not None:
            return Outcome("the run is already configured")
        c = configuration
        if not (c.slots >= 1 and c.rounds_per_epoch >= 1 and c.batch_size >= 1 and c.run_id):
            return Outcome("a run needs an id, slots, a batch size and rounds per epoch")
        self._configuration = configuration
        return APPLIED

    def _admit(self, node: str, requested: int, slot: int, address: str) -> Outcome:
        configuration = self._configuration
        if configuration is None:
            return Outcome(f"admission of {node} before the run is configured")
        start = max(requested, self._horizon)
        if not (slot >= 0 and slot < configuration.slots and requested >= 0):
            return Outcome(f"admission of {node}: slot {slot} outside 0..<{configuration.slots} or round {start} < 0")
        spans = self._spans.get(node)
        if spans and spans[-1].end is None:
            return Outcome(f"{node} is already admitted")
        holder = self._holder(slot, start)
        if holder is not None:
            return Outcome(f"slot {slot} is {holder}'s")
        self._spans.setdefault(node, []).append(_Span(slot, start))
        if address:
            self._external[node] = address
        else:
            self._external.pop(node, None)
        return APPLIED

    def _retire(self, node: str, requested: int) -> Outcome:
        spans = self._spans.get(node)
        if not spans or spans[-1].end is not None:
            return Outcome(f"{node} is not training")
        last = spans[-1]
        last.end = max(requested, last.start, self._horizon)
        return APPLIED

    def _bandwidth(self, workers: Sequence[str], matrix: BandwidthMatrix, requested: int) -> Outcome:
        if not (matrix.workers == len(workers) and len(set(workers)) == len(workers) and requested >= 0):
            return Outcome(f"a bandwidth matrix of {matrix.workers} workers for {len(workers)} names")
        self._matrices.append(MatrixEntry(tuple(workers), matrix, max(requested, self._horizon)))
        return APPLIED

    def _record_progress(self, node: str, round: int, accuracy: float) -> Outcome:
        if not (node in self._spans and math.isfinite(accuracy) and accuracy >= 0 and accuracy <= 1):
            return Outcome(f"progress from {node}, which never trained, or accuracy {accuracy!r}")
        previous = self._progress.get(node)
        if previous is not None and previous.round >= round:
            return Outcome(f"{node}'s progress for round {round} is old")
        self._progress[node] = ProgressEntry(round, accuracy)
        return APPLIED

    def _report(self, node: str, mbps: Mapping[str, float]) -> Outcome:
        if not (node in self._spans and len(mbps) <= 4096
                and all(math.isfinite(v) and v >= 0 for v in mbps.values())):
            return Outcome(f"a bandwidth report from {node}, which never trained, or with values that are not "
                           "finite and >= 0")
        self._reports[node] = dict(mbps)
        return APPLIED

    def _extend_horizon(self, until: int) -> Outcome:
        if self._configuration is None:
            return Outcome("a round horizon before the run is configured")
        if not until > self._horizon:
            return Outcome(f"horizon {until} is not beyond {self._horizon}")
        self._horizon = until
        return APPLIED

    def admission(self, node: str) -> Optional[Admission]:
        """`admission(of:)`: `node`'s current slot and first round, None while not admitted."""
        spans = self._spans.get(node)
        if not spans or spans[-1].end is not None:
            return None
        return Admission(spans[-1].slot, spans[-1].start)

    def retired_from(self, node: str) -> Optional[int]:
        """The round from which `node` stopped training (its latest admission ended), if it did."""
        spans = self._spans.get(node)
        return spans[-1].end if spans else None

    def has_trained(self, node: str) -> bool:
        """Whether `node` ever trained in this run."""
        return node in self._spans

    @property
    def admitted_count(self) -> int:
        """Peers admitted now (an open admission), whatever round it starts from."""
        return sum(1 for spans in self._spans.values() if spans[-1].end is None)

    def free_slot(self, from_round: int, preferred: Optional[int] = None) -> Optional[int]:
        """A slot nobody holds from round `from_round` on: `preferred` if free, else the lowest."""
        configuration = self._configuration
        if configuration is None:
            return None
        start = max(from_round, self._horizon)
        if (preferred is not None and 0 <= preferred < configuration.slots
                and self._holder(preferred, start) is None):
            return preferred
        return next((slot for slot in range(configuration.slots) if self._holder(slot, start) is None), None)

    def participants(self, at: int) -> List[Participant]:
        """Who trains in round `at`, in node-id order (bytewise UTF-8)."""
        found = []
        for node, spans in self._spans.items():
            span = next((s for s in reversed(spans) if s.start <= at and (s.end is None or at < s.end)), None)
            if span is not None:
                found.append(Participant(node, span.slot))
        return sorted(found)

    @property
    def latest_matrix(self) -> Optional[MatrixEntry]:
        """The newest committed matrix (its workers and first round), if any."""
        return self._matrices[-1] if self._matrices else None

    def bandwidth(self, among: Sequence[str], at: int, unmeasured: float = 1.0) -> BandwidthMatrix:
        """The bandwidths among `among` in round `at`: the newest matrix in force then,
        `unmeasured` MB/s for any pair it does not cover."""
        reports: Dict[str, Dict[str, float]] = {}
        latest = next((m for m in reversed(self._matrices) if m.from_round <= at), None)
        if latest is not None:
            for i, a in enumerate(latest.workers):
                for j, b in enumerate(latest.workers):
                    if i != j:
                        reports.setdefault(a, {})[b] = latest.matrix[i, j]
        return aggregate_bandwidth(among, reports, unmeasured)

    def _holder(self, slot: int, start: int) -> Optional[str]:
        """The slot's holder at round `start` or later, if any (one peer at a time)."""
        for node, spans in sorted(self._spans.items(), key=lambda item: item[0].encode()):
            if any(s.slot == slot and (s.end is None or start < s.end) for s in spans):
                return node
        return None
