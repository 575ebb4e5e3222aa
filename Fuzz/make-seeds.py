#!/usr/bin/env python3
"""Writes the committed seed corpora under Fuzz/corpus/ (rerun after a proto change).

- FuzzWire: every golden encoding of Tests/GossipWireTests/Golden up to 512 bytes,
  prefixed with the byte that selects its message type in FuzzWire.swift.
- FuzzDeframer: a few gRPC length-prefixed streams, chunked as the target reads them.
- FuzzServer: HTTP/2 client traffic after the preface (SETTINGS, HEADERS, DATA) for
  each method of the fuzz server, built with Tests/interop/h2raw.py.
"""
import pathlib
import re
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "Tests" / "interop"))
import h2raw  # noqa: E402

# The order of `messageTypes` in Sources/FuzzWire/FuzzWire.swift.
source = (HERE / "Sources" / "FuzzWire" / "FuzzWire.swift").read_text()
listing = source.split("messageTypes: [any WireMessage.Type] = [", 1)[1].split("]", 1)[0]
types = re.findall(r"(\w+)\.(\w+)\.self", listing)
prefix = {"GRPCTesting": "grpc_testing", "GRPCHealth": "grpc", "GatewayV1": "gateway",
          "CompatGateway": "compat", "RaftV1": "raft", "GossipV1": "gossip"}


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


names = {f"{prefix[ns]}_{snake(t)}": i for i, (ns, t) in enumerate(types)}


def write(target, name, data):
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


golden = ROOT / "Tests" / "GossipWireTests" / "Golden"
for path in sorted(golden.glob("*.bin")):
    stem = path.stem
    match = max((n for n in names if stem == n or stem.startswith(n + "_")), key=len, default=None)
    if match is None:
        sys.exit(f"no message type for golden file {path.name}")
    data = path.read_bytes()
    if len(data) <= 512:
        write("FuzzWire", stem, bytes([names[match]]) + data)


def chunked(limit_byte, stream, size):
    out = bytes([limit_byte])
    for i in range(0, len(stream), size):
        piece = stream[i:i + size]
        out += bytes([len(piece)]) + piece
    return out


m = h2raw.grpc_message
write("FuzzDeframer", "two_messages", chunked(255, m(b"hello") + m(b"") + m(b"x" * 40), 7))
write("FuzzDeframer", "byte_by_byte", chunked(255, m(b"abc") + m(b"defgh"), 1))
write("FuzzDeframer", "too_large", chunked(3, m(b"0123456789"), 16))
write("FuzzDeframer", "compressed", chunked(255, m(b"z", compressed=True), 6))

T = "/grpc.testing.TestService/"
pb = lambda field, payload: bytes([field << 3 | 2, len(payload)]) + payload  # noqa: E731
simple = pb(3, pb(2, b"ping")) + bytes([0x10, 0x20])  # payload.body "ping", response_size 32
streaming = pb(2, bytes([0x08, 0x10])) + pb(2, bytes([0x08, 0x04]))  # two response sizes
requests = {
    "empty_call": (T + "EmptyCall", [b""]),
    "unary_call": (T + "UnaryCall", [simple]),
    "unary_status": (T + "UnaryCall", [pb(7, bytes([0x08, 0x05]) + pb(2, b"nope"))]),
    "strict_call_unknown_field": (T + "StrictCall", [simple + bytes([0xa8, 0x1f, 0x01])]),
    "streaming_output": (T + "StreamingOutputCall", [streaming]),
    "streaming_input": (T + "StreamingInputCall", [pb(1, pb(2, b"abc")), pb(1, pb(2, b"defg"))]),
    "full_duplex": (T + "FullDuplexCall", [streaming, streaming]),
    "health_check": ("/grpc.health.v1.Health/Check", [b""]),
    "unknown_method": ("/grpc.testing.TestService/Nope", [b""]),
}
for name, (path, messages) in requests.items():
    headers = h2raw.grpc_request_headers("localhost", path, [("grpc-timeout", "1S"), ("x-meta", "v")])
    data = b"".join(m(body) for body in messages)
    traffic = (h2raw.settings_frame({4: 1 << 20})
               + h2raw.headers_frame(1, headers)
               + h2raw.data_frame(1, data, end_stream=True)
               + h2raw.frame(h2raw.PING, 0, 0, b"8 bytes!"))
    write("FuzzServer", name, traffic)
write("FuzzServer", "settings_only", h2raw.settings_frame())
two_streams = (h2raw.settings_frame()
               + h2raw.headers_frame(1, h2raw.grpc_request_headers("l", T + "EmptyCall"))
               + h2raw.headers_frame(3, h2raw.grpc_request_headers("l", T + "UnaryCall"))
               + h2raw.data_frame(3, m(simple), end_stream=True)
               + h2raw.data_frame(1, m(b""), end_stream=True)
               + h2raw.frame(h2raw.RST_STREAM, 0, 3, struct.pack(">I", 8))
               + h2raw.frame(h2raw.GOAWAY, 0, 0, struct.pack(">II", 3, 0)))
write("FuzzServer", "two_streams_rst_goaway", two_streams)
