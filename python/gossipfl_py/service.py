"""`gossip.v1.Gossip` served by a Python node, as the Swift peers serve it.

Mirrors Sources/TrainingNode/GossipService.swift and TrainingPeer+Gossip.swift: the caller may
speak only as itself (its certificate names the sender), requests are bounded, and every refusal
is a status with a message; the model is untouched by any request that is refused.
"""

import math
from typing import Iterator, Optional, Protocol

import google_crc32c
import grpc
import numpy as np

from . import protos
from .exchange import ExchangePoint, Refused
from .tls import authorize_node

MAX_PROBE_REPLY_BYTES = 4 << 20
MAX_EXCHANGE_BYTES = 8 << 20
DEFAULT_CHUNK_VALUES = 65_536
MAX_CHUNK_VALUES = 262_144
MAX_ROUND = 1 << 62


class Engine(Protocol):
    """What the handlers need once the run is known."""
    run_id: str
    architecture: str
    values_per_exchange: int
    point: ExchangePoint
    exchange_timeout: float


class Backend(Protocol):
    node_id: str
    tls_on: bool

    def engine(self) -> Optional[Engine]: ...
    def training_status(self): ...
    def count_sent(self, byte_count: int) -> None: ...


def model_chunks(values: np.ndarray, run: str, round_: int, architecture: str, chunk_values: int = 0):
    """ModelTransfer.chunks: the model in pieces under 1 MiB, the last with the CRC32C of all."""
    pb2 = protos.gossip().pb2
    size = DEFAULT_CHUNK_VALUES if chunk_values <= 0 else min(chunk_values, MAX_CHUNK_VALUES)
    data = values.astype("<f4").tobytes()
    crc = google_crc32c.value(data)
    total = len(values)
    offset = 0
    while True:
        end = min(offset + size, total)
        yield pb2.ModelChunk(run_id=run, round=round_, architecture=architecture, total_values=total, offset=offset,
                             values=data[offset * 4:end * 4], crc32c=crc if end == total else 0)
        offset = end
        if offset >= total:
            return


class GossipServicer:
    def __init__(self, backend: Backend):
        self.backend = backend
        self.pb2 = protos.gossip().pb2

    def _authorize(self, context, action: str, node_id: str) -> None:
        authorize_node(context, "%s as %s" % (action, node_id), node_id, self.backend.tls_on)

    def Exchange(self, request, context):
        self._authorize(context, "exchange models", request.sender_id)
        engine = self.backend.engine()
        if engine is None:
            context.abort(grpc.StatusCode.UNAVAILABLE, "%s has not started training yet" % self.backend.node_id)
        if request.run_id != engine.run_id:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "%s trains run %r, not %r" % (self.backend.node_id, engine.run_id, request.run_id))
        if request.encoding != self.pb2.FLOAT32_LE:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "values must be FLOAT32_LE")
        if len(request.values) != engine.values_per_exchange * 4:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "%d bytes of values; run %s exchanges %d float32 values a round"
                          % (len(request.values), engine.run_id, engine.values_per_exchange))
        if request.round > MAX_ROUND:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "round %d is out of range" % request.round)
        # Wait for our loop no longer than the caller waits for us, less a fifth for the way back.
        timeout = engine.exchange_timeout * 0.8
        remaining = context.time_remaining()
        if remaining is not None and math.isfinite(remaining):
            timeout = min(timeout, remaining * 0.8)
        try:
            mine = engine.point.exchange(request.round, request.sender_id, request.values, timeout)
        except Refused as refused:
            context.abort(getattr(grpc.StatusCode, refused.code), refused.message)
        self.backend.count_sent(len(mine))
        return self.pb2.ModelValues(run_id=engine.run_id, round=request.round, sender_id=self.backend.node_id,
                                    encoding=self.pb2.FLOAT32_LE, values=mine)

    def FetchModel(self, request, context) -> Iterator:
        self._authorize(context, "fetch the model", request.requester_id)
        if request.chunk_values > MAX_CHUNK_VALUES:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "chunk_values %d is above %d" % (request.chunk_values, MAX_CHUNK_VALUES))
        engine = self.backend.engine()
        if engine is None or engine.run_id != request.run_id:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not training run %r" % request.run_id)
        copy = engine.point.model_copy()
        if copy is None:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the training loop did not reach a round boundary in time")
        values, round_ = copy
        yield from model_chunks(values, engine.run_id, round_, engine.architecture, request.chunk_values)

    def Probe(self, request, context):
        self._authorize(context, "probe", request.sender_id)
        if request.reply_bytes > MAX_PROBE_REPLY_BYTES:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "reply_bytes %d is above %d" % (request.reply_bytes, MAX_PROBE_REPLY_BYTES))
        return self.pb2.ProbeResponse(payload=bytes(request.reply_bytes))

    def Status(self, request, context):
        return self.backend.training_status()

    def FollowTraining(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "%s follows the training log itself: follow a Raft member" % self.backend.node_id)


def add_to_server(server: grpc.Server, backend: Backend) -> None:
    protos.gossip().pb2_grpc.add_GossipServicer_to_server(GossipServicer(backend), server)


SERVER_OPTIONS = [("grpc.max_receive_message_length", MAX_EXCHANGE_BYTES + (64 << 10)),
                  ("grpc.max_send_message_length", MAX_EXCHANGE_BYTES + (64 << 10))]


def model_assembled(chunks, run: str, architecture: str, expected_values: int):
    """ModelAssembler: a FetchModel stream's chunks into (values, round). Chunks must be of the
    run and architecture, agree on round and length, come in order, hold finite values, and
    end with the matching checksum; raises ValueError otherwise."""
    data, round_ = bytearray(), None
    for chunk in chunks:
        if chunk.run_id != run or chunk.architecture != architecture:
            raise ValueError("a chunk of run %r (%s), not %r (%s)" % (chunk.run_id, chunk.architecture, run, architecture))
        if chunk.total_values != expected_values:
            raise ValueError("a model of %d values, not %d" % (chunk.total_values, expected_values))
        if round_ is not None and chunk.round != round_:
            raise ValueError("chunks of rounds %d and %d" % (round_, chunk.round))
        round_ = chunk.round
        if chunk.offset * 4 != len(data) or len(chunk.values) % 4 or len(data) + len(chunk.values) > expected_values * 4:
            raise ValueError("a chunk at value %d of %d bytes after %d values" % (chunk.offset, len(chunk.values), len(data) // 4))
        data += chunk.values
        if len(data) == expected_values * 4:
            if chunk.crc32c != google_crc32c.value(bytes(data)):
                raise ValueError("the model's checksum does not match")
            values = np.frombuffer(bytes(data), dtype="<f4").astype(np.float32)
            if not np.isfinite(values).all():
                raise ValueError("the model holds values that are not finite")
            if round_ > MAX_ROUND:
                raise ValueError("a model of round %d" % round_)
            return values, int(round_)
    raise ValueError("the model stream ended before the last chunk")
