"""A run's configuration and the training events, and their gossip.v1 TrainingCommand encoding.

Mirrors the run and the events of Sources/Training/TrainingLedger.swift (`RunConfiguration`,
`TrainingEvent`), Sources/TrainingNode/TrainingCommandCodec.swift (TrainingCommand <-> events),
Sources/Learning/Partition.swift (parsing the scheme, not the data split), Sources/Training/
Algorithm.swift and Architecture.swift (their raw values) and Sources/RaftNode/PeerAddress.swift
(HOST:PORT). Refused commands raise TrainingCommandError with the Swift messages.

Strings compare as Python's do: node ids are 1...128 bytes of [A-Za-z0-9._:-] (the gateway
checks them, Sources/Discovery/Validation.swift), so Swift's canonical equivalence and grapheme
clusters never come into it. Wire strings are read as protobuf-c hands them to Swift: cut at the
first NUL.
"""

import math
import re
from dataclasses import dataclass, field, replace
from typing import Dict, NamedTuple, Optional, Tuple, Union

import numpy as np

from .matching import BandwidthMatrix, BandwidthMatrixError


def _c_string(text: str) -> str:
    """A wire string as the Swift peers decode it: protobuf-c NUL-terminates strings, so
    "base-1\\0evil" arrives as "base-1" (see Sources/GossipWire/CDecoding.swift)."""
    return text.split("\0", 1)[0]


def _swift_int(text: str) -> Optional[int]:
    """`Int(text)`: an optional sign and ASCII digits only (no spaces, no "_"), within Int64."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    value = int(text)
    return value if -2**63 <= value < 2**63 else None


_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_HEXADECIMAL = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?[0-9]+)?")


def _swift_double(text: str) -> Optional[float]:
    """`Double(text)` where it is finite and non-zero (the whole string, decimal or hexadecimal;
    Python's float() would also take spaces, "_", "inf" and "nan"). Every caller refuses the rest."""
    if _DECIMAL.fullmatch(text):
        value = float(text)
    elif _HEXADECIMAL.fullmatch(text):
        value = float.fromhex(text)
    else:
        return None
    return value if math.isfinite(value) and value != 0 else None


def swift_description(x: float) -> str:
    """A Double as the messages print it: Python's shortest digits (Swift's too, up to 2^53).
    Kept for callers of the old ledger module; the messages here use repr directly."""
    return repr(float(x))


_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\0": "\\0", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def swift_debug_description(text: str) -> str:
    """`String.debugDescription` for ASCII, how the Swift messages quote a string: \\\\, \\', \\"
    and the controls escaped. Other characters are left as they are."""
    return '"' + "".join(_ESCAPES.get(ch) or (f"\\u{{{ord(ch):02X}}}" if ord(ch) < 0x20 or ch == "\x7f" else ch)
                         for ch in text) + '"'


# ---------------------------------------------------------------------------------------------
# Partition.swift (parsing only), Architecture.swift, Algorithm.swift


class PartitionError(ValueError):
    """Mirrors `PartitionError` (its description is the message)."""


@dataclass(frozen=True)
class PartitionScheme:
    """`PartitionScheme`: kind "iid", "dirichlet" (parameter alpha) or "shards" (parameter K,
    the labels per worker). Only parsed and compared here; the data split is in data.py."""

    kind: str
    parameter: Union[None, float, int] = None

    @classmethod
    def iid(cls) -> "PartitionScheme":
        return cls("iid")

    @classmethod
    def dirichlet(cls, alpha: float) -> "PartitionScheme":
        return cls("dirichlet", float(alpha))

    @classmethod
    def shards(cls, labels_per_worker: int) -> "PartitionScheme":
        return cls("shards", int(labels_per_worker))

    @classmethod
    def parse(cls, text: str) -> "PartitionScheme":
        """`init(parsing:)`: `iid`, `dirichlet:ALPHA` or `shards:K`. Swift's
        `split(separator: ":", maxSplits: 1)` omits empty pieces, so leading ":"s do not count."""
        head, _, rest = text.lstrip(":").partition(":")
        parts = [part for part in (head, rest) if part]
        if parts == ["iid"]:
            return cls.iid()
        if head == "dirichlet" and rest:
            alpha = _swift_double(rest)
            if alpha is None or not alpha > 0:
                raise PartitionError(f"dirichlet:ALPHA needs a positive number, got {swift_debug_description(rest)}")
            return cls.dirichlet(alpha)
        if head == "shards" and rest:
            k = _swift_int(rest)
            if k is None or not k > 0:
                raise PartitionError(f"shards:K needs a positive integer, got {swift_debug_description(rest)}")
            return cls.shards(k)
        raise PartitionError(
            f"unknown partition {swift_debug_description(text)}: use iid, dirichlet:ALPHA or shards:K")

    def __str__(self) -> str:
        """`description`, what a configure command carries."""
        if self.kind == "dirichlet":
            return f"dirichlet:{float(self.parameter)!r}"
        if self.kind == "shards":
            return f"shards:{self.parameter}"
        return "iid"


# `Architecture`'s raw values.
ARCHITECTURES = ("logreg", "mlp", "cnn")


class Algorithm:
    """`Algorithm`, by its raw value."""
    SAPS = "saps"
    RANDOM = "random"
    RANDOM_DENSE = "random-dense"
    DPSGD = "dpsgd"
    FEDAVG = "fedavg"
    CENTRALISED = "centralised"
    POWER = "power"
    ALL = (SAPS, RANDOM, RANDOM_DENSE, DPSGD, FEDAVG, CENTRALISED, POWER)
    # What `gossipfl peer` trains; a configure command may also name power.
    ON_THE_NETWORK = (SAPS, RANDOM, DPSGD)
    CONFIGURABLE = (SAPS, RANDOM, DPSGD, POWER)


# SimulationConfig.maxBatchSize
MAX_BATCH_SIZE = 10_000


# ---------------------------------------------------------------------------------------------
# PeerAddress.swift


class PeerAddress(NamedTuple):
    """Mirrors `PeerAddress`: "host:port" or "[v6]:port"."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str, allowing_port_zero: bool = False) -> Optional["PeerAddress"]:
        """`init?(_:allowingPortZero:)`; None where Swift returns nil."""
        if text.startswith("[") and "]" in text:
            host, _, rest = text[1:].partition("]")
            if not rest.startswith(":"):
                return None
            port_text = rest[1:]
        else:
            host, colon, port_text = text.rpartition(":")
            if not colon:
                return None
        port = _swift_int(port_text)
        if not host or port is None or not (0 if allowing_port_zero else 1) <= port <= 65535:
            return None
        return cls(host, port)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


# ---------------------------------------------------------------------------------------------
# The run and its events (TrainingLedger.swift)


def _float32(value: float) -> float:
    """`Float(value)`: rounded to binary32 (to infinity past its range, as Swift does)."""
    with np.errstate(over="ignore"):
        return float(np.float32(value))


DEFAULT_HORIZON_ROUNDS = 16


@dataclass(frozen=True)
class RunConfiguration:
    """Mirrors `RunConfiguration`: a run's fixed parameters, committed when it starts. The
    learning-rate fields are Swift Floats, so they are kept rounded to binary32."""

    run_id: str
    architecture: str
    partition: PartitionScheme
    slots: int
    seed: int
    rounds_per_epoch: int
    # Rounds to train; None trains until stopped.
    rounds: Optional[int]
    dataset: str = "fashion-mnist"
    algorithm: str = Algorithm.SAPS
    keep_fraction: float = 0.01
    learning_rate: float = 0.05
    learning_rate_decay: float = 0.992
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 50
    bandwidth_threshold: float = 3.0
    round_threshold: int = 3
    # Training starts once this many peers are admitted.
    min_participants: int = 1
    # How far ahead of the fastest peer the round horizon is pushed.
    horizon_rounds: int = DEFAULT_HORIZON_ROUNDS

    def __post_init__(self) -> None:
        for name in ("learning_rate", "learning_rate_decay", "momentum", "weight_decay"):
            object.__setattr__(self, name, _float32(getattr(self, name)))

    @classmethod
    def from_proto(cls, c) -> "RunConfiguration":
        """`init(_ c: GossipV1.TrainingConfig)`: the run a configure command carries, checked in
        the Swift order; raises TrainingCommandError with the Swift messages."""
        model, algorithm, run_id = _c_string(c.model), _c_string(c.algorithm), _c_string(c.run_id)
        if model not in ARCHITECTURES:
            raise TrainingCommandError(f"configure: model {swift_debug_description(model)} is not logreg, mlp or cnn")
        if algorithm not in Algorithm.CONFIGURABLE:
            raise TrainingCommandError(
                f"configure: algorithm {swift_debug_description(algorithm)} is not saps, random, dpsgd or power")
        try:
            partition = PartitionScheme.parse(_c_string(c.partition))
        except PartitionError as error:
            raise TrainingCommandError(f"configure: {error}") from None
        # Written as the Swift guard is, so that NaN fails every comparison it is in.
        if not (c.keep_fraction > 0 and c.keep_fraction <= 1 and c.learning_rate > 0 and math.isfinite(c.learning_rate)
                and c.learning_rate_decay > 0 and c.momentum >= 0 and c.momentum < 1 and c.weight_decay >= 0
                and math.isfinite(c.weight_decay) and c.batch_size >= 1 and c.batch_size <= MAX_BATCH_SIZE
                and c.rounds_per_epoch >= 1 and c.slots >= 1 and c.min_participants <= c.slots and run_id
                and math.isfinite(c.bandwidth_threshold)):
            raise TrainingCommandError("configure: run id, slots, keep fraction, learning rate, momentum, weight decay, "
                                       "batch size or rounds per epoch out of range")
        return cls(run_id=run_id, architecture=model, dataset=_c_string(c.dataset), partition=partition,
                   slots=c.slots, seed=c.seed, algorithm=algorithm, keep_fraction=c.keep_fraction,
                   learning_rate=c.learning_rate, learning_rate_decay=c.learning_rate_decay, momentum=c.momentum,
                   weight_decay=c.weight_decay, batch_size=c.batch_size, rounds_per_epoch=c.rounds_per_epoch,
                   rounds=None if c.rounds == 0 else _round(c.rounds), bandwidth_threshold=c.bandwidth_threshold,
                   round_threshold=c.round_threshold, min_participants=max(1, c.min_participants),
                   horizon_rounds=DEFAULT_HORIZON_ROUNDS if c.horizon_rounds == 0 else c.horizon_rounds)

    def replacing(self, **changes) -> "RunConfiguration":
        """A copy with some fields changed (Swift: `var run = ...; run.algorithm = .dpsgd`)."""
        return replace(self, **changes)


# The events: one committed training entry each (`TrainingEvent`), decoded at the edge.

@dataclass(frozen=True)
class Configure:
    configuration: RunConfiguration


@dataclass(frozen=True)
class Admit:
    """`address`: where a participant outside the Raft cluster serves gossip.v1 ("" for members)."""
    node: str
    from_round: int
    slot: int
    address: str = ""


@dataclass(frozen=True)
class Retire:
    node: str
    from_round: int
    reason: str = ""


@dataclass(frozen=True)
class Bandwidth:
    """Link bandwidths among `workers` (the matrix's order) from `from_round` on."""
    workers: Tuple[str, ...]
    matrix: BandwidthMatrix
    from_round: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "workers", tuple(self.workers))


@dataclass(frozen=True)
class Progress:
    node: str
    round: int
    accuracy: float


@dataclass(frozen=True)
class Horizon:
    """Peers may run rounds below `until_round` (see `TrainingLedger.horizon`)."""
    until_round: int


@dataclass(frozen=True)
class Report:
    """`node`'s measured throughput to other peers (MB/s), for the leader to build the matrix from."""
    node: str
    mbps: Dict[str, float] = field(default_factory=dict)


TrainingEvent = Union[Configure, Admit, Retire, Bandwidth, Progress, Horizon, Report]


# ---------------------------------------------------------------------------------------------
# TrainingCommandCodec.swift


class TrainingCommandError(ValueError):
    """Mirrors `TrainingCommandError`: a committed entry that is not a usable training command."""


# Rounds beyond Int's range (or the Raft bound) cannot be planned.
MAX_ROUND = 1 << 62

_COMMAND_FIELDS = ("configure", "admit", "retire", "bandwidth", "progress", "horizon", "report")


def _round(value: int) -> int:
    """`TrainingEvent.round(_:)`."""
    if value > MAX_ROUND:
        raise TrainingCommandError(f"round {value} is out of range")
    return int(value)


def event_from_command(command) -> TrainingEvent:
    """`TrainingEvent(command:)`: the event a committed gossip.v1 `TrainingCommand` carries.
    Raises TrainingCommandError (a ValueError) for what a Swift peer would refuse."""
    count = sum(1 for name in _COMMAND_FIELDS if command.HasField(name))
    if count != 1:
        raise TrainingCommandError(f"a training command sets exactly one field, this one sets {count}")
    if command.HasField("configure"):
        return Configure(RunConfiguration.from_proto(command.configure))
    if command.HasField("admit"):
        a = command.admit
        address = _c_string(a.address)
        if address and PeerAddress.parse(address) is None:
            raise TrainingCommandError(f"admit: address {swift_debug_description(address)} is not HOST:PORT")
        return Admit(_c_string(a.node_id), _round(a.from_round), a.slot, address)
    if command.HasField("retire"):
        r = command.retire
        return Retire(_c_string(r.node_id), _round(r.from_round), _c_string(r.reason))
    if command.HasField("bandwidth"):
        b = command.bandwidth
        n = len(b.workers)
        if len(b.mbps) != n * n:
            raise TrainingCommandError(f"bandwidth: {len(b.mbps)} values for {n} workers (need {n * n})")
        rows = [list(b.mbps[i * n:(i + 1) * n]) for i in range(n)]
        from_round = _round(b.from_round)  # before the matrix, as in Swift
        try:
            matrix = BandwidthMatrix(rows)
        except BandwidthMatrixError as error:
            raise TrainingCommandError(f"bandwidth: {error}") from None
        return Bandwidth(tuple(_c_string(w) for w in b.workers), matrix, from_round)
    if command.HasField("report"):
        r = command.report
        return Report(_c_string(r.reporter_id), {_c_string(k): v for k, v in r.mbps_to_peer.items()})
    if command.HasField("horizon"):
        return Horizon(_round(command.horizon.until_round))
    p = command.progress
    return Progress(_c_string(p.node_id), _round(p.round), p.test_accuracy)


def command_from_event(event: TrainingEvent, pb2=None):
    """`GossipV1.TrainingCommand(_ event)`: the entry to propose for `event`, as a gossip_pb2
    TrainingCommand (`pb2` defaults to the generated gossip.v1 module). Its
    `SerializeToString(deterministic=True)` is the Swift encoding byte for byte: both write a
    report's map sorted by key bytes."""
    if pb2 is None:
        from . import protos
        pb2 = protos.gossip().pb2
    command = pb2.TrainingCommand()
    if isinstance(event, Configure):
        run = event.configuration
        c = command.configure
        c.run_id, c.model, c.dataset, c.partition = run.run_id, run.architecture, run.dataset, str(run.partition)
        c.slots, c.seed, c.algorithm, c.keep_fraction = run.slots, run.seed, run.algorithm, run.keep_fraction
        c.learning_rate, c.learning_rate_decay = run.learning_rate, run.learning_rate_decay
        c.momentum, c.weight_decay, c.batch_size = run.momentum, run.weight_decay, run.batch_size
        c.rounds_per_epoch, c.rounds = run.rounds_per_epoch, run.rounds or 0
        c.bandwidth_threshold, c.round_threshold = run.bandwidth_threshold, run.round_threshold
        c.min_participants, c.horizon_rounds = run.min_participants, run.horizon_rounds
        # Every field may be at its default (proto3 then encodes nothing): the field is still set.
        command.configure.SetInParent()
    elif isinstance(event, Admit):
        command.admit.SetInParent()
        command.admit.node_id, command.admit.from_round = event.node, event.from_round
        command.admit.slot, command.admit.address = event.slot, event.address
    elif isinstance(event, Retire):
        command.retire.SetInParent()
        command.retire.node_id, command.retire.from_round, command.retire.reason = event.node, event.from_round, event.reason
    elif isinstance(event, Bandwidth):
        command.bandwidth.SetInParent()
        command.bandwidth.workers.extend(event.workers)
        command.bandwidth.mbps.extend(v for row in event.matrix.rows for v in row)
        command.bandwidth.from_round = event.from_round
    elif isinstance(event, Progress):
        command.progress.SetInParent()
        command.progress.node_id, command.progress.round = event.node, event.round
        command.progress.test_accuracy = event.accuracy
    elif isinstance(event, Horizon):
        command.horizon.SetInParent()
        command.horizon.until_round = event.until_round
    elif isinstance(event, Report):
        command.report.SetInParent()
        command.report.reporter_id = event.node
        command.report.mbps_to_peer.update(event.mbps)
    else:
        raise TypeError(f"not a training event: {event!r}")
    return command
