"""Fixtures and helpers for the gateway discovery tests (test_gateway_*.py).

Test modules import the fixtures they use from here, e.g.

    from gateway_fixtures import gateway, gateway_stubs  # noqa: F401

(pytest_plugins can't be used: Tests/interop/conftest.py isn't the root
conftest).  bench/gateway_bench.py imports the plain helpers.

Environment:
  GOSSIPFL_BIN   the Swift `gossipfl` binary (default <repo>/.build/debug/gossipfl).
                 Missing binary = test *failure* with a clear message, never a skip.

Processes under test (contract, see the test modules):
  gossipfl gateway --listen 127.0.0.1:PORT --data-dir DIR [--lease-seconds S]
                   [--compat-listen HOST:PORT]
      stdout: `listening on 127.0.0.1:PORT` (+ `compat listening on HOST:PORT`)
  gossipfl register --gateway 127.0.0.1:PORT --node-id ID --advertise HOST:PORT
                    --cache-dir DIR [--heartbeat-ms MS] [--cluster-id C]
      stdout: one JSON object per line, one per event.

Every process started here listens on loopback only, every wait is bounded,
and every process is stopped at teardown (SIGTERM, then SIGKILL).
"""

import atexit
import importlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types

import grpc
import pytest

INTEROP_DIR = os.path.dirname(os.path.abspath(__file__))
if INTEROP_DIR not in sys.path:
    sys.path.insert(0, INTEROP_DIR)

from interop_harness import (  # noqa: E402
    LOOPBACK, REPO_ROOT, SERVER_STOP_TIMEOUT, ServerProcess, pick_free_port,
)

DEFAULT_GOSSIPFL_BIN = os.path.join(REPO_ROOT, ".build", "debug", "gossipfl")
PROTO_ROOT = os.path.join(REPO_ROOT, "Protos")
GATEWAY_PROTO_FILES = ["gateway/v1/gateway.proto", "compat/gateway_service.proto"]
PROTO_DIR_ENV = "GOSSIPFL_GATEWAY_PROTO_DIR"

GATEWAY_START_TIMEOUT = 20.0
RPC_TIMEOUT = 5.0  # the Python GossipFL nodes use 5 s deadlines
MIB = 1024 * 1024

# What the existing Python GossipFL nodes pass to grpc.insecure_channel (the
# test uses a 1 s keepalive to see several pings in a few seconds).
PY_NODE_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", 1000 * MIB),
    ("grpc.max_receive_message_length", 1000 * MIB),
    ("grpc.keepalive_time_ms", 1000),
    ("grpc.keepalive_permit_without_calls", 1),
]

_COMPAT_LISTENING_RE = re.compile(r"^compat listening on (\S+):(\d+)\s*$")


# --------------------------------------------------------------------------
# generated code for gateway.v1 and the compat GatewayService


_loaded_protos = None


def _generated(d):
    return bool(d) and os.path.isfile(os.path.join(d, "gateway", "v1", "gateway_pb2_grpc.py")) \
        and os.path.isfile(os.path.join(d, "compat", "gateway_service_pb2_grpc.py"))


def compile_gateway_protos(out_dir):
    from grpc_tools import protoc

    os.makedirs(out_dir, exist_ok=True)
    rc = protoc.main(["grpc_tools.protoc", "-I", PROTO_ROOT, "--python_out", out_dir,
                      "--grpc_python_out", out_dir]
                     + [os.path.join(PROTO_ROOT, f) for f in GATEWAY_PROTO_FILES])
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed (rc=%d) for %s" % (rc, GATEWAY_PROTO_FILES))
    # Regular packages (not namespace ones): a `compat`/`gateway` module
    # elsewhere on sys.path must not win over the generated code.
    for pkg in ("gateway", os.path.join("gateway", "v1"), "compat"):
        open(os.path.join(out_dir, pkg, "__init__.py"), "a").close()
    return out_dir


def load_gateway_protos(out_dir=None):
    """Namespace with v1, v1_grpc (gateway.v1) and compat, compat_grpc (GatewayService)."""
    global _loaded_protos
    if _loaded_protos is not None:
        return _loaded_protos
    if out_dir is None:
        env = os.environ.get(PROTO_DIR_ENV)
        if _generated(env):
            out_dir = env
        else:
            out_dir = tempfile.mkdtemp(prefix="gossipfl-gateway-protos-")
            atexit.register(shutil.rmtree, out_dir, True)
    if not _generated(out_dir):
        compile_gateway_protos(out_dir)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    importlib.invalidate_caches()
    _loaded_protos = types.SimpleNamespace(
        out_dir=out_dir,
        v1=importlib.import_module("gateway.v1.gateway_pb2"),
        v1_grpc=importlib.import_module("gateway.v1.gateway_pb2_grpc"),
        compat=importlib.import_module("compat.gateway_service_pb2"),
        compat_grpc=importlib.import_module("compat.gateway_service_pb2_grpc"),
    )
    return _loaded_protos


# --------------------------------------------------------------------------
# the gateway process


def gossipfl_bin_path():
    return os.path.abspath(os.environ.get("GOSSIPFL_BIN") or DEFAULT_GOSSIPFL_BIN)


def check_gossipfl_bin(path):
    """None if usable, else a message explaining what is missing."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return ("gossipfl binary not found or not executable at %r.\n"
                "Build it (swift build --product gossipfl) or set GOSSIPFL_BIN." % path)
    return None


def gateway_cmd(binary, data_dir, listen="%s:0" % LOOPBACK, lease_seconds=None,
                compat_listen=None, extra=(), security=("--insecure",)):
    """`security`: --insecure by default, or the --tls-* arguments of a gateway certificate."""
    cmd = [binary, "gateway", "--listen", listen, "--data-dir", data_dir] + list(security)
    if lease_seconds is not None:
        cmd += ["--lease-seconds", str(lease_seconds)]
    if compat_listen is not None:
        cmd += ["--compat-listen", compat_listen]
    return cmd + list(extra)


class GatewayError(RuntimeError):
    pass


def launch_gateway(binary, data_dir, listen="%s:0" % LOOPBACK, lease_seconds=None,
                   compat_listen=None, extra=(), name="gateway",
                   start_timeout=GATEWAY_START_TIMEOUT, security=("--insecure",)):
    """Start a gateway and wait for its ready line(s); raises GatewayError.

    Returns the ServerProcess with extra attributes: data_dir, registry_path,
    listen_arg, compat_host/compat_port (when --compat-listen was given).
    """
    os.makedirs(data_dir, exist_ok=True)
    cmd = gateway_cmd(binary, data_dir, listen, lease_seconds, compat_listen, extra, security)
    try:
        srv = ServerProcess(cmd, name=name, start_timeout=start_timeout)
    except RuntimeError as e:
        raise GatewayError(str(e))
    srv.transport = "h2c"
    srv.data_dir = data_dir
    srv.registry_path = os.path.join(data_dir, "registry.json")
    srv.compat_host = srv.compat_port = None
    if compat_listen is not None:
        deadline = time.monotonic() + start_timeout
        while srv.compat_port is None:
            for line in list(srv._stdout_lines):
                m = _COMPAT_LISTENING_RE.match(line)
                if m:
                    srv.compat_host, srv.compat_port = m.group(1).strip("[]"), int(m.group(2))
                    break
            else:
                if not srv.is_alive() or time.monotonic() > deadline:
                    msg = srv._describe("%s did not print 'compat listening on HOST:PORT' "
                                        "(state: %s)" % (name, srv.state()))
                    srv.close()
                    raise GatewayError(msg)
                time.sleep(0.05)
    return srv


def kill9(proc_holder, timeout=5.0):
    """SIGKILL a ServerProcess/AgentProcess and reap it."""
    p = proc_holder.proc
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait(timeout)


def compat_address(srv):
    if srv.compat_port is not None:
        return "%s:%d" % (srv.compat_host, srv.compat_port)
    return srv.address


# --------------------------------------------------------------------------
# stubs


class GatewayStubs:
    """grpcio channels + stubs for one gateway.

    v1      gateway.v1.Gateway stub on the main listener
    compat  GatewayService stub (on --compat-listen if the gateway has one,
            else on the main listener), channel options of the Python nodes
    pb/cpb  the generated message modules (gateway.v1 / compat)
    """

    def __init__(self, srv, protos, compat_options=None):
        self.srv = srv
        self.protos = protos
        self.pb = protos.v1
        self.cpb = protos.compat
        self.channel = grpc.insecure_channel(srv.address)
        self.compat_channel = grpc.insecure_channel(
            compat_address(srv),
            options=PY_NODE_CHANNEL_OPTIONS if compat_options is None else compat_options)
        self.v1 = protos.v1_grpc.GatewayStub(self.channel)
        self.compat = protos.compat_grpc.GatewayServiceStub(self.compat_channel)

    def raw_unary(self, path, payload, timeout=RPC_TIMEOUT):
        """Send `payload` (bytes, already serialized) to `path`; returns response bytes."""
        call = self.channel.unary_unary(path, request_serializer=None, response_deserializer=None)
        return call(payload, timeout=timeout)

    def close(self):
        self.channel.close()
        self.compat_channel.close()


# --------------------------------------------------------------------------
# v1 helpers shared by the tests


def addr(pb, host, port):
    return pb.NodeAddress(host=host, port=port)


def register(stubs, node_id, port=None, host=LOOPBACK, caps=(), cluster_id="", timeout=RPC_TIMEOUT):
    pb = stubs.pb
    if port is None:
        port = 20000 + (sum(node_id.encode()) % 30000)
    return stubs.v1.Register(pb.RegisterRequest(
        node_id=node_id, address=pb.NodeAddress(host=host, port=port),
        capabilities=list(caps), cluster_id=cluster_id), timeout=timeout)


def list_peers(stubs, timeout=RPC_TIMEOUT):
    return stubs.v1.ListPeers(stubs.pb.ListPeersRequest(), timeout=timeout)


def peers_by_id(stubs):
    return {p.node_id: p for p in list_peers(stubs).peers}


def registry_view(stubs):
    """Everything observable about the registry except ages (which tick)."""
    resp = list_peers(stubs)
    peers = sorted((p.node_id, p.address.host, p.address.port, tuple(p.capabilities), p.stale)
                   for p in resp.peers)
    lead = stubs.v1.GetLeader(stubs.pb.GetLeaderRequest(), timeout=RPC_TIMEOUT)
    leader = None
    if lead.HasField("leader") and lead.leader.node_id:
        l = lead.leader
        leader = (l.node_id, l.term, l.address.host, l.address.port, l.stale)
    return {"peers": peers, "registry_version": resp.registry_version, "leader": leader}


def wait_until(predicate, timeout, interval=0.05, desc="condition"):
    """Poll `predicate` until truthy; returns its value. AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = predicate()
            if v:
                return v
        except grpc.RpcError as e:  # e.g. gateway not up yet
            last_exc = e
        if time.monotonic() > deadline:
            extra = ""
            if last_exc is not None:
                extra = " (last RPC error: %s %s)" % (last_exc.code(), last_exc.details())
            raise AssertionError("timed out after %.1f s waiting for %s%s" % (timeout, desc, extra))
        time.sleep(interval)


# --------------------------------------------------------------------------
# the discovery client (`gossipfl register`)


class AgentProcess:
    """`gossipfl register ...` in the background; its JSON events are collected."""

    def __init__(self, binary, gateway, node_id, advertise, cache_dir, heartbeat_ms=None,
                 cluster_id=None, name=None):
        self.node_id = node_id
        self.name = name or "agent %s" % node_id
        self.cache_dir = cache_dir
        self.cmd = [binary, "register", "--gateway", gateway, "--node-id", node_id,
                    "--advertise", advertise, "--cache-dir", cache_dir, "--insecure"]
        if heartbeat_ms is not None:
            self.cmd += ["--heartbeat-ms", str(heartbeat_ms)]
        if cluster_id is not None:
            self.cmd += ["--cluster-id", cluster_id]
        self.events = []        # (monotonic time, dict)
        self.bad_lines = []     # stdout lines that aren't JSON objects
        self._cond = threading.Condition()
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, cwd=REPO_ROOT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            with self._cond:
                if isinstance(obj, dict):
                    self.events.append((time.monotonic(), obj))
                else:
                    self.bad_lines.append(line)
                self._cond.notify_all()
        self.proc.stdout.close()
        with self._cond:
            self._cond.notify_all()

    def snapshot(self):
        with self._cond:
            return [e for _, e in self.events]

    def events_since(self, t0):
        with self._cond:
            return [e for t, e in self.events if t >= t0]

    def wait_event(self, predicate, timeout, desc, since=None):
        """First event (at/after monotonic `since`) matching predicate; fails on timeout/exit."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, e in self.events:
                    if (since is None or t >= since) and predicate(e):
                        return e
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(self.describe(
                        "%s exited (%s) while waiting for %s" % (self.name, self.state(), desc)))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self.describe(
                        "%s: no %s within %.1f s" % (self.name, desc, timeout)))
                self._cond.wait(min(remaining, 0.2))

    def wait_count(self, predicate, n, timeout, desc, since=None):
        """Wait until at least n matching events; returns them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [e for t, e in self.events if (since is None or t >= since) and predicate(e)]
                if len(got) >= n:
                    return got
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(self.describe(
                        "%s exited (%s) while waiting for %d x %s (got %d)" % (
                            self.name, self.state(), n, desc, len(got))))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self.describe(
                        "%s: only %d of %d x %s within %.1f s" % (self.name, len(got), n, desc, timeout)))
                self._cond.wait(min(remaining, 0.2))

    def state(self):
        rc = self.proc.poll()
        if rc is None:
            return "running"
        if rc < 0:
            try:
                return "DEAD (killed by %s)" % signal.Signals(-rc).name
            except ValueError:
                return "DEAD (killed by signal %d)" % -rc
        return "exit %d" % rc

    def is_alive(self):
        return self.proc.poll() is None

    def stderr_text(self, limit=6000):
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode("utf-8", "replace")
        except (ValueError, OSError):
            return "<stderr unavailable>"
        return text if len(text) <= limit else "...\n" + text[-limit:]

    def describe(self, msg, max_events=40):
        evs = self.snapshot()
        shown = evs[-max_events:]
        return "%s\n  command: %s\n  state: %s\n  events (%d, last %d):\n    %s\n" \
            "  non-JSON stdout lines: %r\n  stderr:\n%s" % (
                msg, shlex.join(self.cmd), self.state(), len(evs), len(shown),
                "\n    ".join(json.dumps(e) for e in shown), self.bad_lines[-10:],
                self.stderr_text())

    def stop(self, timeout=SERVER_STOP_TIMEOUT):
        """SIGTERM, wait, then SIGKILL. Returns (exit code, stopped_by_sigterm)."""
        graceful = True
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                graceful = False
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(2)
        return self.proc.returncode, graceful

    def close(self):
        self.stop()
        self._stderr.close()


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="session")
def gateway_protos(tmp_path_factory):
    """gateway.v1 + compat generated modules (compiled once per session)."""
    if _loaded_protos is not None:
        return _loaded_protos
    return load_gateway_protos(str(tmp_path_factory.mktemp("gateway_protos")))


@pytest.fixture(scope="session")
def gossipfl_bin():
    path = gossipfl_bin_path()
    msg = check_gossipfl_bin(path)
    if msg:
        pytest.fail(msg, pytrace=False)
    return path


@pytest.fixture
def gateway_factory(gossipfl_bin, tmp_path):
    """start(**kw) -> ServerProcess of a new gateway; all are stopped at teardown.

    kw: data_dir (default: a fresh dir under tmp_path), listen, lease_seconds,
    compat_listen, extra, name.  Start failures are test failures.
    """
    started = []
    counter = [0]

    def start(data_dir=None, listen="%s:0" % LOOPBACK, lease_seconds=None, compat_listen=None,
              extra=(), name=None):
        counter[0] += 1
        if data_dir is None:
            data_dir = str(tmp_path / ("gw-data-%d" % counter[0]))
        try:
            srv = launch_gateway(gossipfl_bin, data_dir, listen=listen, lease_seconds=lease_seconds,
                                 compat_listen=compat_listen, extra=extra,
                                 name=name or "gateway #%d" % counter[0])
        except GatewayError as e:
            pytest.fail(str(e), pytrace=False)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.close()


@pytest.fixture
def gateway(gateway_factory):
    """A fresh gateway (empty data dir, free port, default lease)."""
    return gateway_factory()


@pytest.fixture
def stubs_factory(gateway_protos):
    """make(srv, compat_options=None) -> GatewayStubs; all closed at teardown."""
    made = []

    def make(srv, compat_options=None):
        s = GatewayStubs(srv, gateway_protos, compat_options)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.fixture
def gateway_stubs(gateway, stubs_factory):
    """GatewayStubs for the `gateway` fixture."""
    return stubs_factory(gateway)


@pytest.fixture
def agent_factory(gossipfl_bin, tmp_path):
    """start(gateway_addr, node_id, cache_dir=None, heartbeat_ms=200, ...) -> AgentProcess."""
    started = []

    def start(gateway_addr, node_id, cache_dir=None, heartbeat_ms=200, cluster_id=None,
              advertise=None):
        if cache_dir is None:
            cache_dir = str(tmp_path / ("cache-%s" % node_id))
        os.makedirs(cache_dir, exist_ok=True)
        if advertise is None:
            advertise = "%s:%d" % (LOOPBACK, pick_free_port())
        a = AgentProcess(gossipfl_bin, gateway_addr, node_id, advertise, cache_dir,
                         heartbeat_ms=heartbeat_ms, cluster_id=cluster_id)
        started.append(a)
        return a

    yield start
    for a in started:
        a.close()
