"""Python grpcio client (py_interop_client.run_case) vs the server under test.

The server under test is `$GOSSIPFL_INTEROP_BIN server` (default
.build/debug/gossipfl-interop), or INTEROP_SERVER_CMD if set.  One server per
transport (h2c, tls) for the whole module; every case uses a fresh channel.
"""

import signal
import subprocess

import grpc
import pytest

from interop_cases import CASE_NAMES
from interop_harness import (
    LOOPBACK, SERVER_STOP_TIMEOUT, assert_answers_empty_unary, channel_to, fail_with_server_state,
    run_case_against, server_tls_args, start_server,
)


CONCURRENT_CALLS = 64


@pytest.mark.parametrize("case", CASE_NAMES)
def test_py_client_vs_server_under_test(case, server_under_test, py_client, tls_files):
    run_case_against(py_client, server_under_test, tls_files, case)


def test_health_check(server_under_test, py_client, protos, tls_files):
    stub = protos.health_pb2_grpc.HealthStub
    with channel_to(py_client, server_under_test, tls_files) as ch:
        resp = stub(ch).Check(protos.health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert resp.status == protos.health_pb2.HealthCheckResponse.SERVING


def test_concurrent_large_unary(server_under_test, py_client, protos, tls_files):
    """Many large_unary calls in flight on one channel (HTTP/2 multiplexing + flow control)."""
    m = protos.messages_pb2
    req = m.SimpleRequest(response_type=m.COMPRESSABLE, response_size=314159,
                          payload=m.Payload(body=bytes(271828)))
    with channel_to(py_client, server_under_test, tls_files) as ch:
        stub = protos.test_pb2_grpc.TestServiceStub(ch)
        futures = [stub.UnaryCall.future(req, timeout=60) for _ in range(CONCURRENT_CALLS)]
        for i, f in enumerate(futures):
            try:
                resp = f.result()
            except grpc.RpcError as e:
                fail_with_server_state(server_under_test, "call %d of %d failed: %s %r" % (
                    i, CONCURRENT_CALLS, e.code(), e.details()))
            assert resp.payload.body == bytes(314159), "call %d: bad payload (%d bytes)" % (
                i, len(resp.payload.body))


def test_still_serving_after_all_cases(server_under_test, py_client, tls_files):
    assert_answers_empty_unary(py_client, server_under_test, tls_files, "after all cases")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_server_exits_zero_on_signal(sig, server_cmd, transport, tls_files):
    cmd = server_cmd + ["--port", "0", "--host", LOOPBACK] + server_tls_args(transport, tls_files)
    with start_server(cmd, name="server under test (%s)" % transport) as srv:
        srv.proc.send_signal(sig)
        try:
            rc = srv.proc.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail("server did not exit within %.0f s of %s" % (SERVER_STOP_TIMEOUT, sig.name))
        assert rc == 0, "exit code %s after %s; stderr:\n%s" % (rc, sig.name, srv.stderr_text())
