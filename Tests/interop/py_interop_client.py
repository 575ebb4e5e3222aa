#!/usr/bin/env python3
"""grpcio implementation of the gRPC interop test cases (client side).

Library use:   run_case(name, channel)  -- raises AssertionError on failure.
CLI (same flags as `gossipfl-interop client`):

    py_interop_client.py --server_host H --server_port N --test_case NAME|all
        [--use_tls --ca_file CERT --server_host_override NAME]

Exit 0 on success; non-zero with a message on stderr on failure.
Semantics follow gRPC's doc/interop-test-descriptions.md.
"""

import argparse
import os
import queue
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import interop_cases  # noqa: E402
import interop_protos  # noqa: E402

P = interop_protos.load()
messages_pb2 = P.messages_pb2
empty_pb2 = P.empty_pb2

# Per-RPC deadline for cases that don't specify one: a hung server fails the
# case instead of hanging the test run.
DEFAULT_TIMEOUT = 15.0
# Big enough for the bench's 16 MiB messages.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
]

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_INITIAL_VALUE = "test_initial_metadata_value"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
ECHO_TRAILING_VALUE = b"\xab\xab\xab"

STATUS_MESSAGE = "test status message"
SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"

CLIENT_STREAMING_SIZES = (27182, 8, 1828, 45904)
SERVER_STREAMING_SIZES = (31415, 9, 2653, 58979)
PING_PONG_RESPONSE_SIZES = (31415, 9, 2653, 58979)
PING_PONG_REQUEST_SIZES = (27182, 8, 1828, 45904)


# --------------------------------------------------------------------------
# helpers


class _Pipe:
    """A request iterator fed from the test thread (for bidi streaming)."""

    _CLOSE = object()

    def __init__(self):
        self._q = queue.Queue()
        self._closed = False

    def add(self, item):
        self._q.put(item)

    def close(self):
        if not self._closed:
            self._closed = True
            self._q.put(self._CLOSE)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._q.get()
        if item is self._CLOSE:
            self._q.put(self._CLOSE)  # stay exhausted
            raise StopIteration()
        return item

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _zeros(n):
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=bytes(n))


def _check_payload(payload, size, what):
    assert payload.type == messages_pb2.COMPRESSABLE, \
        "%s: payload type %r, want COMPRESSABLE" % (what, payload.type)
    assert len(payload.body) == size, \
        "%s: payload size %d, want %d" % (what, len(payload.body), size)
    assert payload.body == bytes(size), "%s: payload is not all zero bytes" % what


def _expect_rpc_error(fn, code, details=None, what="call"):
    """Run fn(); it must raise grpc.RpcError with `code` (and `details`)."""
    try:
        result = fn()
    except grpc.RpcError as e:
        assert e.code() == code, "%s: status %s (%r), want %s" % (what, e.code(), e.details(), code)
        if details is not None:
            assert e.details() == details, \
                "%s: status message %r, want %r" % (what, e.details(), details)
        return e
    raise AssertionError("%s: succeeded (%r), want status %s" % (what, result, code))


def _md_values(metadata, key):
    return [md.value for md in (metadata or ()) if md.key == key]


def _check_echoed_metadata(initial, trailing, what):
    got_i = _md_values(initial, ECHO_INITIAL_KEY)
    assert got_i == [ECHO_INITIAL_VALUE], \
        "%s: initial metadata %s = %r, want [%r] (all initial: %r)" % (
            what, ECHO_INITIAL_KEY, got_i, ECHO_INITIAL_VALUE, initial)
    got_t = _md_values(trailing, ECHO_TRAILING_KEY)
    assert got_t == [ECHO_TRAILING_VALUE], \
        "%s: trailing metadata %s = %r, want [%r] (all trailing: %r)" % (
            what, ECHO_TRAILING_KEY, got_t, ECHO_TRAILING_VALUE, trailing)


def _stub(channel):
    return P.test_pb2_grpc.TestServiceStub(channel)


def _large_unary_request(**kw):
    return messages_pb2.SimpleRequest(
        response_type=messages_pb2.COMPRESSABLE, response_size=314159,
        payload=_zeros(271828), **kw)


def _duplex_request(resp_size, req_size, **kw):
    return messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[messages_pb2.ResponseParameters(size=resp_size)],
        payload=_zeros(req_size), **kw)


# --------------------------------------------------------------------------
# the test cases


def empty_unary(channel):
    resp = _stub(channel).EmptyCall(empty_pb2.Empty(), timeout=DEFAULT_TIMEOUT)
    assert isinstance(resp, empty_pb2.Empty), "empty_unary: response %r" % (resp,)
    assert resp.ByteSize() == 0, "empty_unary: non-empty response %r" % (resp,)


def large_unary(channel):
    resp = _stub(channel).UnaryCall(_large_unary_request(), timeout=DEFAULT_TIMEOUT)
    _check_payload(resp.payload, 314159, "large_unary")


def client_streaming(channel):
    reqs = [messages_pb2.StreamingInputCallRequest(payload=_zeros(n)) for n in CLIENT_STREAMING_SIZES]
    resp = _stub(channel).StreamingInputCall(iter(reqs), timeout=DEFAULT_TIMEOUT)
    assert resp.aggregated_payload_size == 74922, \
        "client_streaming: aggregated_payload_size %d, want 74922" % resp.aggregated_payload_size


def server_streaming(channel):
    req = messages_pb2.StreamingOutputCallRequest(
        response_type=messages_pb2.COMPRESSABLE,
        response_parameters=[messages_pb2.ResponseParameters(size=n) for n in SERVER_STREAMING_SIZES])
    responses = list(_stub(channel).StreamingOutputCall(req, timeout=DEFAULT_TIMEOUT))
    assert len(responses) == len(SERVER_STREAMING_SIZES), \
        "server_streaming: got %d responses, want %d" % (len(responses), len(SERVER_STREAMING_SIZES))
    for i, (resp, n) in enumerate(zip(responses, SERVER_STREAMING_SIZES)):
        _check_payload(resp.payload, n, "server_streaming response %d" % i)


def ping_pong(channel):
    with _Pipe() as pipe:
        call = _stub(channel).FullDuplexCall(pipe, timeout=DEFAULT_TIMEOUT)
        for i, (resp_size, req_size) in enumerate(zip(PING_PONG_RESPONSE_SIZES, PING_PONG_REQUEST_SIZES)):
            pipe.add(_duplex_request(resp_size, req_size))
            resp = next(call)
            _check_payload(resp.payload, resp_size, "ping_pong response %d" % i)
        pipe.close()
        rest = list(call)
        assert not rest, "ping_pong: %d unexpected extra responses" % len(rest)
        assert call.code() == grpc.StatusCode.OK, "ping_pong: final status %s" % call.code()


def empty_stream(channel):
    call = _stub(channel).FullDuplexCall(iter(()), timeout=DEFAULT_TIMEOUT)
    responses = list(call)
    assert responses == [], "empty_stream: got %d responses, want 0" % len(responses)
    assert call.code() == grpc.StatusCode.OK, "empty_stream: final status %s" % call.code()


def timeout_on_sleeping_server(channel):
    with _Pipe() as pipe:
        call = _stub(channel).FullDuplexCall(pipe, timeout=0.001)
        pipe.add(messages_pb2.StreamingOutputCallRequest(
            response_type=messages_pb2.COMPRESSABLE, payload=_zeros(27182)))
        # The pipe stays open: the server has nothing to answer, so only the
        # deadline can end the call.
        _expect_rpc_error(lambda: next(call), grpc.StatusCode.DEADLINE_EXCEEDED,
                          what="timeout_on_sleeping_server")


def cancel_after_begin(channel):
    with _Pipe() as pipe:
        fut = _stub(channel).StreamingInputCall.future(pipe, timeout=DEFAULT_TIMEOUT)
        fut.cancel()
        assert fut.cancelled(), "cancel_after_begin: future not cancelled"
        assert fut.code() == grpc.StatusCode.CANCELLED, \
            "cancel_after_begin: status %s, want CANCELLED" % fut.code()


def cancel_after_first_response(channel):
    with _Pipe() as pipe:
        call = _stub(channel).FullDuplexCall(pipe, timeout=DEFAULT_TIMEOUT)
        pipe.add(_duplex_request(31415, 27182))
        resp = next(call)
        _check_payload(resp.payload, 31415, "cancel_after_first_response")
        call.cancel()
        _expect_rpc_error(lambda: next(call), grpc.StatusCode.CANCELLED,
                          what="cancel_after_first_response")


def custom_metadata(channel):
    md = ((ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE), (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))
    stub = _stub(channel)
    # UnaryCall
    resp, call = stub.UnaryCall.with_call(_large_unary_request(), metadata=md, timeout=DEFAULT_TIMEOUT)
    _check_payload(resp.payload, 314159, "custom_metadata unary")
    _check_echoed_metadata(call.initial_metadata(), call.trailing_metadata(), "custom_metadata unary")
    # FullDuplexCall
    with _Pipe() as pipe:
        call = stub.FullDuplexCall(pipe, metadata=md, timeout=DEFAULT_TIMEOUT)
        pipe.add(_duplex_request(314159, 271828))
        resp = next(call)
        _check_payload(resp.payload, 314159, "custom_metadata full duplex")
        pipe.close()
        rest = list(call)
        assert not rest, "custom_metadata: %d unexpected extra responses" % len(rest)
        assert call.code() == grpc.StatusCode.OK, "custom_metadata duplex: status %s" % call.code()
        _check_echoed_metadata(call.initial_metadata(), call.trailing_metadata(),
                               "custom_metadata full duplex")


def _status_unary(channel, message, what):
    req = messages_pb2.SimpleRequest(response_status=messages_pb2.EchoStatus(code=2, message=message))
    _expect_rpc_error(lambda: _stub(channel).UnaryCall(req, timeout=DEFAULT_TIMEOUT),
                      grpc.StatusCode.UNKNOWN, message, what=what + " unary")


def status_code_and_message(channel):
    _status_unary(channel, STATUS_MESSAGE, "status_code_and_message")
    with _Pipe() as pipe:
        call = _stub(channel).FullDuplexCall(pipe, timeout=DEFAULT_TIMEOUT)
        pipe.add(messages_pb2.StreamingOutputCallRequest(
            response_status=messages_pb2.EchoStatus(code=2, message=STATUS_MESSAGE)))
        pipe.close()
        # No responses are expected; drain whatever comes and check the status.
        _expect_rpc_error(lambda: list(call), grpc.StatusCode.UNKNOWN, STATUS_MESSAGE,
                          what="status_code_and_message full duplex")


def special_status_message(channel):
    _status_unary(channel, SPECIAL_STATUS_MESSAGE, "special_status_message")


def unimplemented_method(channel):
    _expect_rpc_error(
        lambda: _stub(channel).UnimplementedCall(empty_pb2.Empty(), timeout=DEFAULT_TIMEOUT),
        grpc.StatusCode.UNIMPLEMENTED, what="unimplemented_method")


def unimplemented_service(channel):
    stub = P.test_pb2_grpc.UnimplementedServiceStub(channel)
    _expect_rpc_error(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=DEFAULT_TIMEOUT),
                      grpc.StatusCode.UNIMPLEMENTED, what="unimplemented_service")


CASES = {
    f.__name__: f for f in (
        empty_unary, large_unary, client_streaming, server_streaming, ping_pong,
        empty_stream, timeout_on_sleeping_server, cancel_after_begin,
        cancel_after_first_response, custom_metadata, status_code_and_message,
        special_status_message, unimplemented_method, unimplemented_service)
}
CASE_NAMES = list(CASES)
assert CASE_NAMES == interop_cases.CASE_NAMES, "interop_cases.CASE_NAMES out of sync"


def run_case(name, channel):
    """Run one interop case on `channel`; raise AssertionError on failure."""
    try:
        fn = CASES[name]
    except KeyError:
        raise ValueError("unknown test case %r (known: %s)" % (name, ", ".join(CASE_NAMES)))
    try:
        fn(channel)
    except grpc.RpcError as e:
        code = e.code() if hasattr(e, "code") else None
        details = e.details() if hasattr(e, "details") else str(e)
        raise AssertionError("%s: unexpected RPC failure: %s %r" % (name, code, details)) from e


# --------------------------------------------------------------------------
# channel + CLI


def make_channel(host, port, use_tls=False, ca_file=None, server_host_override=None):
    target = "%s:%d" % (host if ":" not in host else "[%s]" % host, port)
    options = list(CHANNEL_OPTIONS)
    if not use_tls:
        return grpc.insecure_channel(target, options=options)
    root = None
    if ca_file:
        with open(ca_file, "rb") as f:
            root = f.read()
    if server_host_override:
        options.append(("grpc.ssl_target_name_override", server_host_override))
        options.append(("grpc.default_authority", server_host_override))
    creds = grpc.ssl_channel_credentials(root_certificates=root)
    return grpc.secure_channel(target, creds, options=options)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server_host", default="127.0.0.1")
    ap.add_argument("--server_port", type=int, required=True)
    ap.add_argument("--test_case", required=True, help="one of: all, " + ", ".join(CASE_NAMES))
    ap.add_argument("--use_tls", action="store_true")
    ap.add_argument("--ca_file")
    ap.add_argument("--server_host_override")
    args = ap.parse_args(argv)

    names = CASE_NAMES if args.test_case == "all" else [args.test_case]
    for n in names:
        if n not in CASES:
            print("unknown test case %r (known: all, %s)" % (n, ", ".join(CASE_NAMES)), file=sys.stderr)
            return 2
    failures = 0
    with make_channel(args.server_host, args.server_port, args.use_tls, args.ca_file,
                      args.server_host_override) as channel:
        for n in names:
            try:
                run_case(n, channel)
            except AssertionError as e:
                failures += 1
                print("FAIL %s: %s" % (n, e), file=sys.stderr)
            except Exception:  # noqa: BLE001 - report anything else too
                failures += 1
                print("ERROR %s:\n%s" % (n, traceback.format_exc()), file=sys.stderr)
            else:
                print("PASS %s" % n, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
