#!/usr/bin/env python3
"""grpcio implementation of grpc.testing.TestService + grpc.health.v1.Health.

Reference server for the interop suite and the benchmark.  Same CLI as
`gossipfl-interop server`:

    py_interop_server.py --port N [--host 127.0.0.1]
        [--use_tls --tls_cert_file CERT --tls_key_file KEY]
        [--max_receive_message_size BYTES]

Prints exactly one line `listening on HOST:PORT` (flushed) once it accepts
connections and runs until SIGTERM/SIGINT, then exits 0.
"""

import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import interop_protos  # noqa: E402

P = interop_protos.load()
messages_pb2 = P.messages_pb2
empty_pb2 = P.empty_pb2
health_pb2 = P.health_pb2

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"

# Sizes above this are refused (the interop spec never asks for more than a
# few hundred KiB; the bench asks for 16 MiB).
MAX_RESPONSE_SIZE = 64 * 1024 * 1024


def _payload(size, context):
    if size < 0 or size > MAX_RESPONSE_SIZE:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad response size %d" % size)
    return messages_pb2.Payload(type=messages_pb2.COMPRESSABLE, body=bytes(size))


def _echo_metadata(context):
    """Echo the interop test metadata: initial now, trailing at call end."""
    initial = []
    trailing = []
    for md in context.invocation_metadata():
        if md.key == ECHO_INITIAL_KEY:
            initial.append((md.key, md.value))
        elif md.key == ECHO_TRAILING_KEY:
            trailing.append((md.key, md.value))
    if initial:
        context.send_initial_metadata(initial)
    if trailing:
        context.set_trailing_metadata(trailing)


def _maybe_abort_with_echo_status(echo_status, context):
    if echo_status.code != 0:
        # abort() keeps trailing metadata set earlier and raises.
        # grpcio can only send the codes it knows; anything else -> UNKNOWN.
        code = _CODES_BY_INT.get(echo_status.code, grpc.StatusCode.UNKNOWN)
        context.abort(code, echo_status.message)


_CODES_BY_INT = {c.value[0]: c for c in grpc.StatusCode}


def _sleep_us(us):
    if us > 0:
        time.sleep(us / 1e6)


class TestServiceServicer(P.test_pb2_grpc.TestServiceServicer):
    def EmptyCall(self, request, context):
        _echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        _echo_metadata(context)
        _maybe_abort_with_echo_status(request.response_status, context)
        return messages_pb2.SimpleResponse(payload=_payload(request.response_size, context))

    def CacheableUnaryCall(self, request, context):
        return self.UnaryCall(request, context)

    def StreamingOutputCall(self, request, context):
        _echo_metadata(context)
        for params in request.response_parameters:
            _sleep_us(params.interval_us)
            yield messages_pb2.StreamingOutputCallResponse(payload=_payload(params.size, context))
        _maybe_abort_with_echo_status(request.response_status, context)

    def StreamingInputCall(self, request_iterator, context):
        _echo_metadata(context)
        total = 0
        for req in request_iterator:
            total += len(req.payload.body)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def FullDuplexCall(self, request_iterator, context):
        _echo_metadata(context)
        for req in request_iterator:
            _maybe_abort_with_echo_status(req.response_status, context)
            for params in req.response_parameters:
                _sleep_us(params.interval_us)
                yield messages_pb2.StreamingOutputCallResponse(
                    payload=_payload(params.size, context))

    def HalfDuplexCall(self, request_iterator, context):
        _echo_metadata(context)
        requests = list(request_iterator)
        for req in requests:
            _maybe_abort_with_echo_status(req.response_status, context)
            for params in req.response_parameters:
                _sleep_us(params.interval_us)
                yield messages_pb2.StreamingOutputCallResponse(
                    payload=_payload(params.size, context))

    # UnimplementedCall is inherited from the generated base class, which
    # answers UNIMPLEMENTED ("Method not implemented!").


class HealthServicer(P.health_pb2_grpc.HealthServicer):
    SERVING_SERVICES = ("", "grpc.testing.TestService", "grpc.health.v1.Health")

    def _status(self, service):
        if service in self.SERVING_SERVICES:
            return health_pb2.HealthCheckResponse.SERVING
        return None

    def Check(self, request, context):
        st = self._status(request.service)
        if st is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return health_pb2.HealthCheckResponse(status=st)

    def Watch(self, request, context):
        st = self._status(request.service)
        if st is None:
            st = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
        yield health_pb2.HealthCheckResponse(status=st)
        done = threading.Event()
        context.add_callback(done.set)
        # Status never changes: hold the stream open until the client leaves.
        while context.is_active() and not done.wait(1.0):
            pass


def build_server(host, port, max_receive=None, tls_cert=None, tls_key=None, workers=16):
    options = [("grpc.so_reuseport", 0)]
    if max_receive is not None:
        options.append(("grpc.max_receive_message_length", max_receive))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=options)
    P.test_pb2_grpc.add_TestServiceServicer_to_server(TestServiceServicer(), server)
    P.health_pb2_grpc.add_HealthServicer_to_server(HealthServicer(), server)
    addr = "%s:%d" % ("[%s]" % host if ":" in host else host, port)
    if tls_cert:
        with open(tls_cert, "rb") as f:
            cert = f.read()
        with open(tls_key, "rb") as f:
            key = f.read()
        creds = grpc.ssl_server_credentials([(key, cert)])
        bound = server.add_secure_port(addr, creds)
    else:
        bound = server.add_insecure_port(addr)
    if bound == 0:
        raise RuntimeError("could not bind %s" % addr)
    return server, bound


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--use_tls", action="store_true")
    ap.add_argument("--tls_cert_file")
    ap.add_argument("--tls_key_file")
    ap.add_argument("--max_receive_message_size", type=int, default=None)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args(argv)
    if args.use_tls and not (args.tls_cert_file and args.tls_key_file):
        ap.error("--use_tls needs --tls_cert_file and --tls_key_file")

    server, port = build_server(
        args.host, args.port, args.max_receive_message_size,
        args.tls_cert_file if args.use_tls else None,
        args.tls_key_file if args.use_tls else None,
        args.workers)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server.start()
    print("listening on %s:%d" % (args.host, port), flush=True)
    while not stop.wait(0.5):
        pass
    server.stop(grace=1).wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
