"""Wire-level checks grpcio's client would paper over (h2c, hand-rolled HTTP/2).

grpcio tolerates some deviations (e.g. a raw UTF-8 grpc-message), so these
look at the actual frames the server under test sends.
Server under test: `$GOSSIPFL_INTEROP_BIN server`, or INTEROP_SERVER_CMD.
"""

import base64
import urllib.parse

import pytest

import h2raw
from interop_harness import LOOPBACK, start_server

TIMEOUT = 10.0
SPECIAL = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"


@pytest.fixture(scope="module")
def wire_server(server_cmd):
    cmd = server_cmd + ["--port", "0", "--host", LOOPBACK]
    with start_server(cmd, name="server under test (h2c, wire checks)") as srv:
        srv.transport = "h2c"
        yield srv


def _call(srv, path, body, extra_headers=(), compressed=False):
    with h2raw.H2Conn(srv.host, srv.port, timeout=TIMEOUT) as c:
        c.start()
        c.send(h2raw.headers_frame(1, h2raw.grpc_request_headers(srv.address, path, extra_headers)))
        c.send(h2raw.data_frame(1, h2raw.grpc_message(body, compressed=compressed), end_stream=True))
        res = c.collect(1, TIMEOUT)
    srv.assert_alive("after raw call to %s" % path)
    return res


def _check_response_head(res):
    assert res.header_blocks, "no HEADERS in response: %s" % res.outcome()
    first = dict(res.header_blocks[0])
    assert first.get(":status") == "200", "first HEADERS %r" % (res.header_blocks[0],)
    ct = first.get("content-type", "")
    assert ct == "application/grpc" or ct.startswith("application/grpc+") \
        or ct.startswith("application/grpc;"), "content-type %r" % ct
    assert res.ended, "stream did not end with END_STREAM: %s" % res.outcome()
    assert res.rst_code is None, "stream was reset: %s" % res.outcome()


def test_success_response_shape(wire_server, protos):
    res = _call(wire_server, "/grpc.testing.TestService/EmptyCall", b"")
    _check_response_head(res)
    assert len(res.header_blocks) == 2, "want HEADERS, DATA, trailers; got %r" % res.frames
    assert res.data == b"\x00\x00\x00\x00\x00", "response DATA %r, want one empty message" % res.data
    trailers = dict(res.header_blocks[-1])
    assert trailers.get("grpc-status") == "0", "trailers %r" % (res.header_blocks[-1],)
    assert ":status" not in trailers


def test_status_message_is_percent_encoded(wire_server, protos):
    m = protos.messages_pb2
    req = m.SimpleRequest(response_status=m.EchoStatus(code=2, message=SPECIAL))
    res = _call(wire_server, "/grpc.testing.TestService/UnaryCall", req.SerializeToString())
    _check_response_head(res)
    assert res.header("grpc-status") == "2", res.outcome()
    raw = res.header("grpc-message")
    assert raw is not None, "no grpc-message: %s" % res.outcome()
    bad = sorted({c for c in raw if not (0x20 <= ord(c) <= 0x7E)})
    assert not bad, "grpc-message has bytes that must be percent-encoded: %r" % (bad,)
    decoded = urllib.parse.unquote_to_bytes(raw).decode("utf-8")
    assert decoded == SPECIAL, "grpc-message %r decodes to %r" % (raw, decoded)


@pytest.mark.parametrize("sent", ["q6s=", "q6s"], ids=["padded", "unpadded"])
def test_binary_trailer_echo_is_base64(sent, wire_server, protos):
    m = protos.messages_pb2
    req = m.SimpleRequest(response_size=1)
    res = _call(wire_server, "/grpc.testing.TestService/UnaryCall", req.SerializeToString(),
                [("x-grpc-test-echo-trailing-bin", sent)])
    _check_response_head(res)
    assert res.header("grpc-status") == "0", res.outcome()
    got = dict(res.header_blocks[-1]).get("x-grpc-test-echo-trailing-bin")
    assert got is not None, "no echoed -bin trailer in %r" % (res.header_blocks[-1],)
    assert base64.b64decode(got + "=" * (-len(got) % 4), validate=True) == b"\xab\xab", \
        "echoed -bin trailer %r (sent %r)" % (got, sent)


def test_unimplemented_is_http_200(wire_server):
    res = _call(wire_server, "/grpc.testing.UnimplementedService/UnimplementedCall", b"")
    _check_response_head(res)
    assert res.header("grpc-status") == "12", res.outcome()


def test_compressed_flag_without_encoding(wire_server):
    """Compressed-Flag=1 without grpc-encoding can't be decoded: INTERNAL (or UNIMPLEMENTED)."""
    res = _call(wire_server, "/grpc.testing.TestService/EmptyCall", b"", compressed=True)
    _check_response_head(res)
    assert res.header("grpc-status") in ("13", "12"), res.outcome()
