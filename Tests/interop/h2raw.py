"""Minimal hand-rolled HTTP/2 (RFC 9113) + HPACK (RFC 7541) for bad-input tests.

Just enough to send deliberately broken traffic to a server and to read what
it answers:

* frame encoding/decoding (9-byte header + payload);
* HPACK encoding: only "literal header field without indexing, new name",
  no Huffman -- always valid and needs no encoder state;
* HPACK decoding: static + dynamic table, all representations, integer
  decoding and Huffman decoding (the code is canonical, so it's rebuilt from
  the RFC 7541 Appendix B code lengths alone);
* H2Conn: a blocking client socket that acks SETTINGS/PING and collects what
  happens on one stream (HEADERS, DATA, RST_STREAM, GOAWAY, EOF).
"""

import socket
import struct
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# frame types
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, \
    WINDOW_UPDATE, CONTINUATION = range(10)
FRAME_NAMES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE",
               "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"]
# flags
FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
FLAG_PADDED = 0x8
FLAG_PRIORITY = 0x20

ERROR_NAMES = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR", 0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED", 0x6: "FRAME_SIZE_ERROR",
    0x7: "REFUSED_STREAM", 0x8: "CANCEL", 0x9: "COMPRESSION_ERROR", 0xA: "CONNECT_ERROR",
    0xB: "ENHANCE_YOUR_CALM", 0xC: "INADEQUATE_SECURITY", 0xD: "HTTP_1_1_REQUIRED",
}


# --------------------------------------------------------------------------
# frames


def frame(ftype, flags, stream_id, payload=b"", length=None):
    """Encode a frame.  `length` overrides the length field (to lie about it)."""
    n = len(payload) if length is None else length
    return struct.pack(">I", n)[1:] + struct.pack(">BBI", ftype, flags, stream_id & 0x7FFFFFFF) + payload


def settings_frame(settings=None, ack=False):
    payload = b"".join(struct.pack(">HI", k, v) for k, v in (settings or {}).items())
    return frame(SETTINGS, FLAG_ACK if ack else 0, 0, payload)


def window_update(stream_id, increment):
    return frame(WINDOW_UPDATE, 0, stream_id, struct.pack(">I", increment))


def headers_frame(stream_id, headers, end_stream=False):
    flags = FLAG_END_HEADERS | (FLAG_END_STREAM if end_stream else 0)
    return frame(HEADERS, flags, stream_id, encode_headers(headers))


def data_frame(stream_id, data, end_stream=False):
    return frame(DATA, FLAG_END_STREAM if end_stream else 0, stream_id, data)


def grpc_message(body, compressed=False, declared_length=None):
    """5-byte gRPC length prefix + body; `declared_length` lies about the size."""
    n = len(body) if declared_length is None else declared_length
    return struct.pack(">BI", 1 if compressed else 0, n) + body


def grpc_request_headers(authority, path, extra=()):
    return [
        (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", authority),
        ("content-type", "application/grpc"), ("te", "trailers"),
    ] + list(extra)


# --------------------------------------------------------------------------
# HPACK


def encode_int(value, prefix_bits, first_byte=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = [first_byte | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _encode_str(s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    return encode_int(len(b), 7) + b


def encode_headers(headers):
    """Header block of literal-without-indexing/new-name fields, no Huffman."""
    return b"".join(b"\x00" + _encode_str(n) + _encode_str(v) for n, v in headers)


STATIC_TABLE = [
    (b":authority", b""), (b":method", b"GET"), (b":method", b"POST"), (b":path", b"/"),
    (b":path", b"/index.html"), (b":scheme", b"http"), (b":scheme", b"https"),
    (b":status", b"200"), (b":status", b"204"), (b":status", b"206"), (b":status", b"304"),
    (b":status", b"400"), (b":status", b"404"), (b":status", b"500"),
    (b"accept-charset", b""), (b"accept-encoding", b"gzip, deflate"), (b"accept-language", b""),
    (b"accept-ranges", b""), (b"accept", b""), (b"access-control-allow-origin", b""),
    (b"age", b""), (b"allow", b""), (b"authorization", b""), (b"cache-control", b""),
    (b"content-disposition", b""), (b"content-encoding", b""), (b"content-language", b""),
    (b"content-length", b""), (b"content-location", b""), (b"content-range", b""),
    (b"content-type", b""), (b"cookie", b""), (b"date", b""), (b"etag", b""), (b"expect", b""),
    (b"expires", b""), (b"from", b""), (b"host", b""), (b"if-match", b""),
    (b"if-modified-since", b""), (b"if-none-match", b""), (b"if-range", b""),
    (b"if-unmodified-since", b""), (b"last-modified", b""), (b"link", b""), (b"location", b""),
    (b"max-forwards", b""), (b"proxy-authenticate", b""), (b"proxy-authorization", b""),
    (b"range", b""), (b"referer", b""), (b"refresh", b""), (b"retry-after", b""),
    (b"server", b""), (b"set-cookie", b""), (b"strict-transport-security", b""),
    (b"transfer-encoding", b""), (b"user-agent", b""), (b"vary", b""), (b"via", b""),
    (b"www-authenticate", b""),
]
assert len(STATIC_TABLE) == 61

# RFC 7541 Appendix B: Huffman code length (bits) of symbols 0..256 (256 = EOS).
# The code is canonical: codes are assigned in (length, symbol) order.
HUFFMAN_CODE_LENGTHS = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
    30,
]
assert len(HUFFMAN_CODE_LENGTHS) == 257


def _build_huffman():
    codes = {}
    code = 0
    prev_len = None
    for sym in sorted(range(257), key=lambda s: (HUFFMAN_CODE_LENGTHS[s], s)):
        n = HUFFMAN_CODE_LENGTHS[sym]
        if prev_len is not None:
            code = (code + 1) << (n - prev_len)
        prev_len = n
        codes[sym] = code
    decode = {(HUFFMAN_CODE_LENGTHS[s], c): s for s, c in codes.items()}
    return codes, decode


HUFFMAN_CODES, _HUFFMAN_DECODE = _build_huffman()


class HpackError(Exception):
    pass


def huffman_decode(data):
    out = bytearray()
    code = 0
    nbits = 0
    for byte in data:
        for i in range(7, -1, -1):
            code = (code << 1) | ((byte >> i) & 1)
            nbits += 1
            sym = _HUFFMAN_DECODE.get((nbits, code))
            if sym is not None:
                if sym == 256:
                    raise HpackError("EOS symbol inside Huffman string")
                out.append(sym)
                code = 0
                nbits = 0
            elif nbits > 30:
                raise HpackError("invalid Huffman code")
    # padding: < 8 bits, all ones (a prefix of EOS)
    if nbits > 7 or code != (1 << nbits) - 1:
        raise HpackError("invalid Huffman padding")
    return bytes(out)


def huffman_encode(data):
    """(For tests of the decoder.)"""
    acc = 0
    nbits = 0
    for b in data:
        acc = (acc << HUFFMAN_CODE_LENGTHS[b]) | HUFFMAN_CODES[b]
        nbits += HUFFMAN_CODE_LENGTHS[b]
    pad = (-nbits) % 8
    acc = (acc << pad) | ((1 << pad) - 1)
    nbits += pad
    return acc.to_bytes(nbits // 8, "big")


class HpackDecoder:
    def __init__(self, max_table_size=4096):
        self.dynamic = []  # newest first
        self.max_size = max_table_size
        self.size = 0

    @staticmethod
    def _int(buf, pos, prefix_bits):
        if pos >= len(buf):
            raise HpackError("truncated integer")
        limit = (1 << prefix_bits) - 1
        value = buf[pos] & limit
        pos += 1
        if value < limit:
            return value, pos
        shift = 0
        while True:
            if pos >= len(buf):
                raise HpackError("truncated integer")
            b = buf[pos]
            pos += 1
            value += (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value, pos
            if shift > 35:
                raise HpackError("integer too large")

    def _str(self, buf, pos):
        if pos >= len(buf):
            raise HpackError("truncated string")
        huff = buf[pos] & 0x80
        n, pos = self._int(buf, pos, 7)
        if pos + n > len(buf):
            raise HpackError("truncated string")
        raw = bytes(buf[pos:pos + n])
        return (huffman_decode(raw) if huff else raw), pos + n

    def _get(self, index):
        if index == 0:
            raise HpackError("index 0")
        if index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        i = index - len(STATIC_TABLE) - 1
        if i >= len(self.dynamic):
            raise HpackError("index %d out of range" % index)
        return self.dynamic[i]

    def _evict(self):
        while self.size > self.max_size and self.dynamic:
            n, v = self.dynamic.pop()
            self.size -= len(n) + len(v) + 32

    def _add(self, name, value):
        self.dynamic.insert(0, (name, value))
        self.size += len(name) + len(value) + 32
        self._evict()

    def decode(self, block):
        """Header block -> list of (name, value) bytes pairs."""
        out = []
        pos = 0
        while pos < len(block):
            b = block[pos]
            if b & 0x80:  # indexed field
                idx, pos = self._int(block, pos, 7)
                out.append(self._get(idx))
            elif b & 0xC0 == 0x40:  # literal with incremental indexing
                idx, pos = self._int(block, pos, 6)
                name = self._get(idx)[0] if idx else None
                if name is None:
                    name, pos = self._str(block, pos)
                value, pos = self._str(block, pos)
                self._add(name, value)
                out.append((name, value))
            elif b & 0xE0 == 0x20:  # dynamic table size update
                size, pos = self._int(block, pos, 5)
                self.max_size = size
                self._evict()
            else:  # literal without indexing (0000) / never indexed (0001)
                idx, pos = self._int(block, pos, 4)
                name = self._get(idx)[0] if idx else None
                if name is None:
                    name, pos = self._str(block, pos)
                value, pos = self._str(block, pos)
                out.append((name, value))
        return out


# --------------------------------------------------------------------------
# connection


class Frame:
    __slots__ = ("type", "flags", "stream_id", "payload", "headers")

    def __init__(self, ftype, flags, stream_id, payload):
        self.type, self.flags, self.stream_id, self.payload = ftype, flags, stream_id, payload
        self.headers = None

    def __repr__(self):
        name = FRAME_NAMES[self.type] if self.type < len(FRAME_NAMES) else "type%d" % self.type
        extra = ""
        if self.headers is not None:
            extra = " %r" % (self.headers,)
        elif self.type in (RST_STREAM, GOAWAY):
            extra = " %s" % ERROR_NAMES.get(self.error_code, self.error_code)
        return "<%s flags=%#x stream=%d len=%d%s>" % (
            name, self.flags, self.stream_id, len(self.payload), extra)

    @property
    def error_code(self):
        if self.type == RST_STREAM:
            return struct.unpack(">I", self.payload[:4])[0]
        if self.type == GOAWAY:
            return struct.unpack(">I", self.payload[4:8])[0]
        return None


class StreamResult:
    """What happened to one stream: header blocks, data, and how it ended."""

    def __init__(self):
        self.header_blocks = []  # list of [(name, value)] (str, str)
        self.data = b""
        self.rst_code = None
        self.goaway_code = None
        self.closed_by_peer = False  # EOF / connection reset
        self.ended = False  # END_STREAM seen
        self.frames = []

    def header(self, name):
        """Last value of `name` in any header block (trailers win)."""
        val = None
        for block in self.header_blocks:
            for n, v in block:
                if n == name:
                    val = v
        return val

    @property
    def grpc_status(self):
        v = self.header("grpc-status")
        return int(v) if v is not None else None

    def outcome(self):
        """Short human-readable summary."""
        parts = []
        if self.header_blocks:
            parts.append(":status=%s grpc-status=%s grpc-message=%r" % (
                self.header(":status"), self.header("grpc-status"), self.header("grpc-message")))
        if self.rst_code is not None:
            parts.append("RST_STREAM(%s)" % ERROR_NAMES.get(self.rst_code, self.rst_code))
        if self.goaway_code is not None:
            parts.append("GOAWAY(%s)" % ERROR_NAMES.get(self.goaway_code, self.goaway_code))
        if self.closed_by_peer:
            parts.append("connection closed")
        return ", ".join(parts) or "nothing"


class H2Conn:
    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.decoder = HpackDecoder()
        self._buf = b""
        self._pending_headers = None  # (frame, fragments) while CONTINUATIONs arrive

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def start(self, settings=None):
        self.send(PREFACE + settings_frame(settings))

    def _recv_exact(self, n, deadline):
        while len(self._buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out waiting for data")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed (%d buffered bytes)" % len(self._buf))
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def read_frame(self, deadline):
        hdr = self._recv_exact(9, deadline)
        length = int.from_bytes(hdr[:3], "big")
        ftype, flags, sid = struct.unpack(">BBI", hdr[3:])
        payload = self._recv_exact(length, deadline)
        return Frame(ftype, flags, sid & 0x7FFFFFFF, payload)

    def next_frame(self, deadline):
        """Next frame; SETTINGS/PING are acked, header blocks are decoded."""
        while True:
            f = self.read_frame(deadline)
            if f.type == SETTINGS and not f.flags & FLAG_ACK:
                self.send(settings_frame(ack=True))
            elif f.type == PING and not f.flags & FLAG_ACK:
                self.send(frame(PING, FLAG_ACK, 0, f.payload))
            if f.type in (HEADERS, PUSH_PROMISE):
                p = f.payload
                pad = 0
                if f.flags & FLAG_PADDED:
                    pad = p[0]
                    p = p[1:]
                if f.type == HEADERS and f.flags & FLAG_PRIORITY:
                    p = p[5:]
                if f.type == PUSH_PROMISE:
                    p = p[4:]
                if pad:
                    p = p[:-pad]
                if f.flags & FLAG_END_HEADERS:
                    f.headers = self._decode(p)
                else:
                    self._pending_headers = (f, [p])
                    continue
            elif f.type == CONTINUATION and self._pending_headers:
                first, frags = self._pending_headers
                frags.append(f.payload)
                if not f.flags & FLAG_END_HEADERS:
                    continue
                self._pending_headers = None
                first.headers = self._decode(b"".join(frags))
                f = first
            return f

    def _decode(self, block):
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self.decoder.decode(block)]

    def collect(self, stream_id, timeout=None):
        """Read frames until `stream_id` ends, is reset, a GOAWAY, EOF or timeout.

        Returns a StreamResult; raises TimeoutError if nothing conclusive
        happened within the timeout.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        res = StreamResult()
        while True:
            try:
                f = self.next_frame(deadline)
            except (EOFError, ConnectionError):
                res.closed_by_peer = True
                return res
            res.frames.append(f)
            if f.type == GOAWAY:
                res.goaway_code = f.error_code
                # The stream may still complete if it is <= last_stream_id;
                # keep reading until it ends or the peer closes.
                last = struct.unpack(">I", f.payload[:4])[0] & 0x7FFFFFFF
                if last < stream_id:
                    return res
                continue
            if f.stream_id != stream_id:
                continue
            if f.type == HEADERS:
                res.header_blocks.append(f.headers)
            elif f.type == DATA:
                res.data += f.payload
                if f.payload:
                    # keep flow-control windows open
                    self.send(window_update(0, len(f.payload)) + window_update(stream_id, len(f.payload)))
            elif f.type == RST_STREAM:
                res.rst_code = f.error_code
                return res
            if f.type in (HEADERS, DATA) and f.flags & FLAG_END_STREAM:
                res.ended = True
                return res

    def read_until_closed(self, timeout=None):
        """Read (and ack) until the peer closes; returns the frames seen.

        Raises TimeoutError (with the frames seen so far in its `.frames`)
        if the connection is still open after `timeout`.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        frames = []
        while True:
            try:
                frames.append(self.next_frame(deadline))
            except (EOFError, ConnectionError):
                return frames
            except TimeoutError as e:
                e.frames = frames
                raise
