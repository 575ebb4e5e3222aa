"""Hostile HTTP/2 clients for the resource-limit tests, built on the PyPI
`h2` / `hpack` / `hyperframe` packages (valid framing and HPACK, hostile
intent), plus /proc readings of the server under attack.

Each attack returns what it managed to make the server accept, so a test can
assert that a limit held (bytes sent, responses queued, connection closed).
"""

import os
import select
import socket
import struct
import time

import h2.config
import h2.exceptions
import h2.connection
import h2.events
import h2.settings
import hpack
import hyperframe.frame

PAGE_KB = 1024


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * PAGE_KB
    raise RuntimeError("no VmRSS for pid %d" % pid)


def cpu_seconds(pid):
    """User + system CPU time the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def grpc_headers(authority, path):
    return [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", authority),
            ("content-type", "application/grpc"), ("te", "trailers")]


class Client:
    """A blocking h2 client connection; `pump` reads what the server sent."""

    def __init__(self, port, initial_window=None, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.authority = "127.0.0.1:%d" % port
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        if initial_window is not None:
            self.conn.local_settings = h2.settings.Settings(
                client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: initial_window})
        self.conn.initiate_connection()
        self.events = []
        self.closed = False
        self.goaway = None
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, timeout=0.05):
        """Reads for up to `timeout`; returns False once the server closed the connection."""
        if self.closed:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            return False
        for event in events:
            if isinstance(event, h2.events.ConnectionTerminated):
                self.goaway = event
        self.events.extend(events)
        self.flush()
        return True

    def wait_closed(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pump(0.1):
                return True
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def refused_streams(self):
        return sum(1 for e in self.events if isinstance(e, h2.events.StreamReset) and e.error_code == 7)

    def trailers_status(self):
        """grpc-status of every stream that ended with one, by stream ID."""
        statuses = {}
        for event in self.events:
            if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                for name, value in event.headers:
                    if name == "grpc-status":
                        statuses[event.stream_id] = int(value)
        return statuses


def partial_messages(port, path, announced, streams=400, seconds=4.0):
    """Opens `streams` calls whose first message announces `announced` bytes and never
    completes, sending as much of them as the server's flow-control windows allow.
    Returns (client, bytes the server let us send)."""
    client = Client(port)
    # Open as many streams as the server allows (it says in SETTINGS); more would be refused.
    deadline = time.monotonic() + 2.0
    while h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS not in client.conn.remote_settings and time.monotonic() < deadline:
        client.pump(0.05)
    streams = min(streams, client.conn.remote_settings.max_concurrent_streams)
    ids = []
    for _ in range(streams):
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, grpc_headers(client.authority, path))
        client.conn.send_data(stream, struct.pack(">BI", 0, announced))
        ids.append(stream)
    client.flush()
    sent = 0
    remaining = {s: announced - 1 for s in ids}
    chunk = b"\0" * 16384
    deadline = time.monotonic() + seconds
    idle_since = time.monotonic()
    while time.monotonic() < deadline and not client.closed and ids:
        progressed = False
        for stream in list(ids):
            try:
                window = min(client.conn.local_flow_control_window(stream), client.conn.max_outbound_frame_size,
                             remaining[stream])
                if window <= 0:
                    continue
                client.conn.send_data(stream, chunk[:window])
            except h2.exceptions.StreamClosedError:
                ids.remove(stream)  # the server refused it (e.g. the announced size is over its limit)
                continue
            remaining[stream] -= window
            sent += window
            progressed = True
            if sent % (1 << 20) < 16384:
                client.flush()
        client.flush()
        client.pump(0.02)
        if progressed:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 1.0:
            break  # the server stopped opening windows
    return client, sent


def unread_responses(port, path, request, streams=400, seconds=3.0):
    """Opens `streams` unary calls with a zero receive window, so no response DATA can
    reach us; the server must not queue all of them. Returns the client after `seconds`."""
    client = Client(port, initial_window=0)
    body = struct.pack(">BI", 0, len(request)) + request
    for _ in range(streams):
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, grpc_headers(client.authority, path))
        client.conn.send_data(stream, body, end_stream=True)
    client.flush()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and client.pump(0.05):
        pass
    return client


def hpack_bomb_blocks(port, path, blocks=50, references=16000, value_size=4000, seconds=5.0):
    """Header blocks that add one `value_size` header to the HPACK table and then reference
    it `references` times (a ~20 KB block that decodes to ~64 MB). Sends up to `blocks` of
    them, each on a new stream. Returns (client, blocks sent before the server closed)."""
    client = Client(port)
    encoder = hpack.Encoder()
    sent = 0
    value = "v" * value_size
    deadline = time.monotonic() + seconds
    for i in range(blocks):
        if client.closed or time.monotonic() > deadline:
            break
        stream = 1 + 2 * i
        headers = grpc_headers(client.authority, path) + [("x-bomb", value)] * references
        block = encoder.encode(headers)
        frames = []
        max_frame = 16384
        first, rest = block[:max_frame], block[max_frame:]
        head = hyperframe.frame.HeadersFrame(stream)
        head.data = first
        if not rest:
            head.flags.add("END_HEADERS")
        frames.append(head.serialize())
        while rest:
            piece, rest = rest[:max_frame], rest[max_frame:]
            cont = hyperframe.frame.ContinuationFrame(stream)
            cont.data = piece
            if not rest:
                cont.flags.add("END_HEADERS")
            frames.append(cont.serialize())
        try:
            client.sock.sendall(b"".join(frames))
        except OSError:
            client.closed = True
            break
        sent += 1
        # Read raw: the bomb bypasses h2's state machine, so only look for EOF.
        client.sock.settimeout(0.01)
        try:
            if client.sock.recv(1 << 16) == b"":
                client.closed = True
        except socket.timeout:
            pass
        except OSError:
            client.closed = True
    return client, sent


def raw_sockets(port, count):
    """`count` TCP connections that never send a byte; those the server could not accept stay pending."""
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    return socks


def count_closed_by_server(socks, timeout):
    """How many of `socks` the server closed (EOF or reset) within `timeout`."""
    deadline = time.monotonic() + timeout
    open_socks = set(socks)
    closed = 0
    while open_socks and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_socks), [], [], 0.1)
        for s in readable:
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data == b"":
                closed += 1
                open_socks.discard(s)
    return closed
