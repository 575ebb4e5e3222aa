"""Bad input against the server under test (h2c).

Garbage, broken HTTP/2 framing, lying gRPC length prefixes, undecodable
protobuf and oversized messages.  After each attack the *same* server must
still answer empty_unary on a fresh grpcio channel.

Server under test: `$GOSSIPFL_INTEROP_BIN server`, or INTEROP_SERVER_CMD.
"""

import os
import random
import socket
import struct
import time

import grpc
import pytest

import h2raw
from interop_harness import LOOPBACK, assert_answers_empty_unary, channel_to, start_server

CLOSE_TIMEOUT = 10.0
ANSWER_TIMEOUT = 10.0
UNARY_PATH = "/grpc.testing.TestService/UnaryCall"
# A server that zero-fills a buffer of the declared 2 GiB would show it here.
MAX_PEAK_RSS_BYTES = 512 * 1024 * 1024


@pytest.fixture(scope="module")
def h2c_server(server_cmd):
    cmd = server_cmd + ["--port", "0", "--host", LOOPBACK]
    with start_server(cmd, name="server under test (h2c)") as srv:
        srv.transport = "h2c"
        yield srv


@pytest.fixture(scope="module")
def small_limit_server(server_cmd):
    cmd = server_cmd + ["--port", "0", "--host", LOOPBACK, "--max_receive_message_size", "1024"]
    with start_server(cmd, name="server under test (--max_receive_message_size 1024)") as srv:
        srv.transport = "h2c"
        yield srv


def _connect(srv):
    s = socket.create_connection((srv.host, srv.port), timeout=CLOSE_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _wait_closed(sock, timeout=CLOSE_TIMEOUT):
    """Read until EOF/reset; returns the bytes the server sent. Fails on timeout."""
    deadline = time.monotonic() + timeout
    got = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail("server kept the connection open for %.0f s after bad input "
                        "(received %d bytes: %r)" % (timeout, len(got), got[:64]))
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return got
        except socket.timeout:
            continue
        if not chunk:
            return got
        got += chunk


def _peak_rss(srv):
    try:
        with open("/proc/%d/status" % srv.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------
# (a) garbage instead of HTTP/2


_rng = random.Random(20240229)
GARBAGE = {
    "http1_get": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n",
    "random_4k": bytes(_rng.getrandbits(8) for _ in range(4096)),
    "bad_preface": b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + bytes(64),
    "preface_then_data_not_settings":
        h2raw.PREFACE + h2raw.data_frame(1, b"hello", end_stream=True),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_garbage_connection_is_closed(name, h2c_server, py_client, tls_files):
    srv = h2c_server
    with _connect(srv) as s:
        try:
            s.sendall(GARBAGE[name])
        except (ConnectionResetError, BrokenPipeError):
            pass  # already closed on us: fine
        else:
            _wait_closed(s)
    assert_answers_empty_unary(py_client, srv, tls_files, "after garbage %s" % name)


# --------------------------------------------------------------------------
# (b) broken framing


def _truncated_frame_bytes(kind):
    start = h2raw.PREFACE + h2raw.settings_frame()
    if kind == "payload":  # header says 100 bytes, only 10 follow
        return start + h2raw.frame(h2raw.HEADERS, 0x5, 1, b"\x00" * 10, length=100)
    if kind == "header":  # 5 of the 9 header bytes
        return start + h2raw.frame(h2raw.HEADERS, 0x5, 1, b"")[:5]
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["payload", "header"])
def test_truncated_frame_then_close(kind, h2c_server, py_client, tls_files):
    srv = h2c_server
    with _connect(srv) as s:
        s.sendall(_truncated_frame_bytes(kind))
        s.shutdown(socket.SHUT_WR)
        _wait_closed(s)
    assert_answers_empty_unary(py_client, srv, tls_files, "after truncated %s + close" % kind)


def test_truncated_frame_left_hanging_does_not_block_others(h2c_server, py_client, tls_files):
    """A peer that stops mid-frame must not stall the server for everyone else."""
    srv = h2c_server
    with _connect(srv) as s:
        s.sendall(_truncated_frame_bytes("payload"))
        time.sleep(0.2)
        assert_answers_empty_unary(py_client, srv, tls_files, "while a truncated frame is pending")


def test_oversized_frame_is_rejected(h2c_server, py_client, tls_files):
    """A frame above SETTINGS_MAX_FRAME_SIZE (16384 by default): connection error."""
    srv = h2c_server
    with h2raw.H2Conn(srv.host, srv.port, timeout=CLOSE_TIMEOUT) as c:
        c.start()
        c.send(h2raw.headers_frame(1, h2raw.grpc_request_headers(srv.address, UNARY_PATH)))
        c.send(h2raw.frame(h2raw.DATA, 0, 1, b"", length=0xFFFFFF))
        try:
            frames = c.read_until_closed(CLOSE_TIMEOUT)
        except TimeoutError as e:
            pytest.fail("connection still open %.0f s after a 16 MiB frame header; frames "
                        "received: %r (after a connection error the server must send GOAWAY "
                        "and close)" % (CLOSE_TIMEOUT, e.frames))
        goaways = [f for f in frames if f.type == h2raw.GOAWAY]
        print("oversized frame ->", goaways or "closed without GOAWAY")
        if goaways:
            assert goaways[-1].error_code == 0x6, "GOAWAY %r, want FRAME_SIZE_ERROR" % goaways[-1]
    assert_answers_empty_unary(py_client, srv, tls_files, "after oversized frame")


# --------------------------------------------------------------------------
# (c) gRPC length prefix claiming ~2 GiB / 4 GiB


@pytest.mark.parametrize("end_stream", [True, False], ids=["end_stream", "open"])
@pytest.mark.parametrize("declared", [0x7FFFFFFF, 0x80000000, 0xFFFFFFFF],
                         ids=["2GiB-1", "2GiB", "4GiB-1"])
def test_huge_length_prefix(declared, end_stream, h2c_server, py_client, tls_files,
                            record_property):
    srv = h2c_server
    with h2raw.H2Conn(srv.host, srv.port, timeout=ANSWER_TIMEOUT) as c:
        c.start()
        c.send(h2raw.headers_frame(1, h2raw.grpc_request_headers(srv.address, UNARY_PATH)))
        c.send(h2raw.data_frame(1, struct.pack(">BI", 0, declared) + b"\x00" * 11,
                                end_stream=end_stream))
        try:
            res = c.collect(1, ANSWER_TIMEOUT)
        except TimeoutError:
            pytest.fail("no answer within %.0f s to a message prefix declaring %d bytes "
                        "(is the server waiting for / allocating it?)" % (ANSWER_TIMEOUT, declared))
    outcome = res.outcome()
    record_property("outcome", outcome)
    print("declared %#x end_stream=%s -> %s" % (declared, end_stream, outcome))
    ok = res.grpc_status == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0] \
        or res.rst_code is not None or res.goaway_code is not None
    assert ok, "want grpc-status 8 (RESOURCE_EXHAUSTED), RST_STREAM or GOAWAY; got %s" % outcome
    rss = _peak_rss(srv)
    if rss is not None:
        assert rss < MAX_PEAK_RSS_BYTES, "server peak RSS %d MiB" % (rss >> 20)
    assert_answers_empty_unary(py_client, srv, tls_files, "after %#x-byte length prefix" % declared)


# --------------------------------------------------------------------------
# (d) undecodable protobuf


INVALID_PROTOBUF = {
    "ff_ff_ff": b"\xff\xff\xff",               # unterminated varint tag
    "truncated_len_delim": b"\x1a\x05ab",       # field 3 (payload) claims 5 bytes, has 2
    "wire_type_7": b"\x0f\x00",                 # field 1 with invalid wire type 7
}


@pytest.mark.parametrize("name", list(INVALID_PROTOBUF))
def test_invalid_protobuf_request(name, h2c_server, py_client, tls_files, record_property):
    srv = h2c_server
    with channel_to(py_client, srv, tls_files) as ch:
        call = ch.unary_unary(UNARY_PATH)  # no serializers: raw bytes both ways
        with pytest.raises(grpc.RpcError) as ei:
            call(INVALID_PROTOBUF[name], timeout=ANSWER_TIMEOUT)
    code = ei.value.code()
    record_property("status", "%s %r" % (code, ei.value.details()))
    print("invalid protobuf %s -> %s %r" % (name, code, ei.value.details()))
    assert code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT), \
        "status %s (%r), want INTERNAL or INVALID_ARGUMENT" % (code, ei.value.details())
    assert_answers_empty_unary(py_client, srv, tls_files, "after invalid protobuf %s" % name)


# --------------------------------------------------------------------------
# (e) --max_receive_message_size


def _request_of_serialized_size(messages_pb2, size):
    """A SimpleRequest whose serialization is exactly `size` bytes (size >= 300)."""
    # payload{body} costs 1 + len(varint) per level; search the body length.
    for body in range(size, 0, -1):
        req = messages_pb2.SimpleRequest(response_size=16, payload=messages_pb2.Payload(body=bytes(body)))
        if req.ByteSize() == size:
            return req
    raise AssertionError("no request of size %d" % size)


@pytest.mark.parametrize("size,ok", [(1000, True), (1024, True), (1025, False), (2048, False)],
                         ids=["1000", "1024-limit", "1025", "2048"])
def test_max_receive_message_size(size, ok, small_limit_server, py_client, protos, tls_files):
    srv = small_limit_server
    req = _request_of_serialized_size(protos.messages_pb2, size)
    assert req.ByteSize() == size
    stub = protos.test_pb2_grpc.TestServiceStub
    with channel_to(py_client, srv, tls_files) as ch:
        if ok:
            resp = stub(ch).UnaryCall(req, timeout=ANSWER_TIMEOUT)
            assert len(resp.payload.body) == 16
        else:
            with pytest.raises(grpc.RpcError) as ei:
                stub(ch).UnaryCall(req, timeout=ANSWER_TIMEOUT)
            assert ei.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, \
                "status %s (%r), want RESOURCE_EXHAUSTED" % (ei.value.code(), ei.value.details())
    assert_answers_empty_unary(py_client, srv, tls_files, "after a %d-byte message" % size)


def test_max_receive_message_size_streaming(small_limit_server, py_client, protos, tls_files):
    """The limit applies per message on streams too (StreamingInputCall)."""
    srv = small_limit_server
    m = protos.messages_pb2
    reqs = [m.StreamingInputCallRequest(payload=m.Payload(body=bytes(n))) for n in (100, 2048)]
    with channel_to(py_client, srv, tls_files) as ch:
        with pytest.raises(grpc.RpcError) as ei:
            protos.test_pb2_grpc.TestServiceStub(ch).StreamingInputCall(iter(reqs), timeout=ANSWER_TIMEOUT)
    assert ei.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, \
        "status %s (%r), want RESOURCE_EXHAUSTED" % (ei.value.code(), ei.value.details())
    assert_answers_empty_unary(py_client, srv, tls_files, "after an oversized streamed message")


def test_server_survived_everything(h2c_server, small_limit_server, py_client, tls_files):
    for srv in (h2c_server, small_limit_server):
        assert_answers_empty_unary(py_client, srv, tls_files, "at end of module")
    assert os.path.exists("/proc/%d" % h2c_server.proc.pid)
