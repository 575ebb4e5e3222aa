"""Gateway persistence and the node-side discovery client, multi-process.

* The gateway persists its registry to DATA_DIR/registry.json.  After kill -9
  and a restart on the same port and data dir it serves the last known state,
  every entry stale=true until that node heartbeats/registers again.
* A corrupt/unreadable registry.json => a log line on stderr naming the file,
  an empty registry, and a gateway that serves.
* `gossipfl register` agents (heartbeat 200 ms): bootstrap/join, `unreachable`
  events with growing retry_in_ms while the gateway is down, confirmed again
  after it comes back, a `cached` event first when restarted with a cache.

Loopback only, every wait bounded, every process stopped at teardown.
"""

import json
import os
import signal
import subprocess
import time

import pytest

from gateway_fixtures import (  # noqa: F401  (fixtures)
    RPC_TIMEOUT, agent_factory, gateway, gateway_factory, gateway_protos, gateway_stubs,
    gossipfl_bin, kill9, list_peers, peers_by_id, register, stubs_factory, wait_until,
)
from interop_harness import LOOPBACK

STDERR_TIMEOUT = 5.0
AGENT_EVENT_TIMEOUT = 15.0
RECONFIRM_TIMEOUT = 30.0  # agents back to stale=false after the gateway restarts


def _assert_persisted(srv, ids):
    """Right after the acknowledgements (no waiting: an OK means stored), the
    data dir (registry.json or the journal files beside it) holds every id."""
    data = b""
    for name in sorted(os.listdir(srv.data_dir)):
        if name == "registry.json" or name.startswith("registry.journal."):
            with open(os.path.join(srv.data_dir, name), "rb") as f:
                data += f.read()
    missing = [i for i in ids if i.encode() not in data]
    assert not missing, "acknowledged but not on disk: %s (files: %s)\n  gateway stderr:\n%s" % (
        missing, sorted(os.listdir(srv.data_dir)), srv.stderr_text(3000))


def _restart(gateway_factory, srv, **kw):
    return gateway_factory(data_dir=srv.data_dir, listen="%s:%d" % (LOOPBACK, srv.port),
                           name="%s (restarted)" % srv.name, **kw)


_PROBLEM_WORDS = ("corrupt", "unreadable", "invalid", "error", "fail", "cannot", "can't", "malformed",
                  "bad", "damaged", "not valid")


def _wait_stderr(srv, needle, timeout=STDERR_TIMEOUT):
    """A stderr line naming `needle` that also says something is wrong with it
    (a plain "no snapshot yet" line of a fresh start doesn't count)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in srv.stderr_text(20000).splitlines():
            low = line.lower()
            if needle in line and any(w in low for w in _PROBLEM_WORDS):
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# --------------------------------------------------------------------------
# persistence


def test_kill9_restart_serves_stale_snapshot(gateway_factory, stubs_factory):
    srv = gateway_factory()
    s = stubs_factory(srv)
    r1 = register(s, "p1", port=7201, caps=["train"])
    register(s, "p2", port=7202)
    register(s, "p3", host="10.0.0.3", port=7203, caps=["gpu", "aggregate"])
    assert r1.bootstrap
    _assert_persisted(srv, ["p1", "p2", "p3"])
    kill9(srv)
    s.close()

    srv2 = _restart(gateway_factory, srv)
    assert srv2.port == srv.port
    s2 = stubs_factory(srv2)
    peers = peers_by_id(s2)
    got = sorted((p.node_id, p.address.host, p.address.port, tuple(p.capabilities), p.stale)
                 for p in peers.values())
    assert got == [("p1", LOOPBACK, 7201, ("train",), True),
                   ("p2", LOOPBACK, 7202, (), True),
                   ("p3", "10.0.0.3", 7203, ("gpu", "aggregate"), True)], \
        "after kill -9 + restart, ListPeers must return the 3 nodes with stale=true; got %s" % got
    lead = s2.v1.GetLeader(s2.pb.GetLeaderRequest(), timeout=RPC_TIMEOUT).leader
    assert (lead.node_id, lead.term) == ("p1", 0), "leader hint not restored: %s" % lead

    hb = s2.v1.Heartbeat(s2.pb.HeartbeatRequest(node_id="p2"), timeout=RPC_TIMEOUT)
    assert hb.known is True, "Heartbeat of a node from the snapshot: expected known=true"
    stale = {i: p.stale for i, p in peers_by_id(s2).items()}
    assert stale == {"p1": True, "p2": False, "p3": True}, \
        "after one heartbeat from p2 only p2 must be stale=false: %s" % stale

    r3 = register(s2, "p3", host="10.0.0.3", port=7203)
    assert r3.bootstrap is False, "re-registration after restart must not bootstrap"
    assert r3.cluster_id == r1.cluster_id, "cluster_id lost across restart: %r -> %r" % (
        r1.cluster_id, r3.cluster_id)
    assert peers_by_id(s2)["p3"].stale is False

    r4 = register(s2, "p4")
    assert r4.bootstrap is False, "a newcomer after restart must join the known cluster, not bootstrap"
    assert r4.cluster_id == r1.cluster_id
    assert sorted(p.node_id for p in r4.peers) == ["p1", "p2", "p3"]
    srv2.assert_alive()


def test_restart_after_downtime_longer_than_lease(gateway_factory, stubs_factory):
    """Down for longer than the lease: the snapshot is still served (stale) right
    after the restart; then the ordinary lease rule applies from the restart on:
    a restored node that heartbeats stays, a silent one expires."""
    srv = gateway_factory(lease_seconds=4)
    s = stubs_factory(srv)
    register(s, "d1", port=7301)
    register(s, "d2", port=7302)
    _assert_persisted(srv, ["d1", "d2"])
    kill9(srv)
    s.close()
    time.sleep(5.0)  # > lease

    srv2 = _restart(gateway_factory, srv, lease_seconds=4)
    t0 = time.monotonic()
    s2 = stubs_factory(srv2)
    got = sorted((p.node_id, p.stale) for p in list_peers(s2).peers)
    assert got == [("d1", True), ("d2", True)], \
        "restarted after 5 s down (lease 4 s): the last known state must be served stale; got %s" % got
    gone = None
    while time.monotonic() - t0 < 12.0:
        hb = s2.v1.Heartbeat(s2.pb.HeartbeatRequest(node_id="d1"), timeout=RPC_TIMEOUT)
        assert hb.known is True, "d1 heartbeats every 0.25 s but is unknown %.2f s after restart" % (
            time.monotonic() - t0)
        peers = peers_by_id(s2)
        assert "d1" in peers and peers["d1"].stale is False
        if "d2" not in peers:
            gone = time.monotonic() - t0
            break
        time.sleep(0.25)
    assert gone is not None, "restored, never-confirmed d2 still listed 12 s after restart (lease 4 s)"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_exits_0_and_saves_snapshot(gateway_factory, stubs_factory, sig):
    srv = gateway_factory()
    s = stubs_factory(srv)
    register(s, "q1")
    register(s, "q2")
    s.v1.Heartbeat(s.pb.HeartbeatRequest(node_id="q1"), timeout=RPC_TIMEOUT)
    s.close()
    srv.proc.send_signal(sig)
    try:
        rc = srv.proc.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail("gateway still running 10 s after %s" % sig.name, pytrace=False)
    assert rc == 0, "gateway exit code after %s: %s\n  stderr:\n%s" % (sig.name, rc, srv.stderr_text(3000))
    with open(srv.registry_path, "rb") as f:
        data = f.read()
    try:
        json.loads(data)
    except ValueError as e:
        pytest.fail("registry.json after %s is not valid JSON (%s): %r" % (sig.name, e, data[:500]),
                    pytrace=False)
    srv2 = _restart(gateway_factory, srv)
    s2 = stubs_factory(srv2)
    got = sorted((p.node_id, p.stale) for p in list_peers(s2).peers)
    assert got == [("q1", True), ("q2", True)], "after %s + restart: %s" % (sig.name, got)


def _snapshot_prefix(gateway_factory, stubs_factory):
    srv = gateway_factory()
    s = stubs_factory(srv)
    for i in range(5):
        register(s, "t%d" % i)
    s.close()
    srv.stop()
    with open(srv.registry_path, "rb") as f:
        data = f.read()
    assert len(data) > 20, "registry.json after SIGTERM: %r" % data
    return data[:len(data) // 2]


CORRUPTIONS = ["garbage bytes", "empty file", "truncated snapshot", "wrong-shape JSON", "directory"]


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupt_registry_starts_empty(gateway_factory, stubs_factory, tmp_path, kind):
    data_dir = str(tmp_path / "corrupt-data")
    os.makedirs(data_dir)
    path = os.path.join(data_dir, "registry.json")
    if kind == "garbage bytes":
        content = b"\x00\xff\xfe garbage \x8f\x13{{{[[[\"\x00" + bytes(range(256))
    elif kind == "empty file":
        content = b""
    elif kind == "truncated snapshot":
        content = _snapshot_prefix(gateway_factory, stubs_factory)
    elif kind == "wrong-shape JSON":
        content = b'{"nodes": 42, "leader": [1, 2, 3], "cluster_id": {"x": null}}'
    else:
        content = None
        os.makedirs(path)
    if content is not None:
        with open(path, "wb") as f:
            f.write(content)

    srv = gateway_factory(data_dir=data_dir, name="gateway (%s registry.json)" % kind)
    assert _wait_stderr(srv, "registry.json"), \
        "%s registry.json: no stderr line naming the file and the problem within %.0f s; stderr:\n%s" % (
            kind, STDERR_TIMEOUT, srv.stderr_text(3000))
    s = stubs_factory(srv)
    peers = list(list_peers(s).peers)
    assert peers == [], "%s registry.json: the gateway must start empty, ListPeers: %s" % (
        kind, [p.node_id for p in peers])
    r = register(s, "fresh-1")
    assert r.bootstrap is True, "%s registry.json: the first node must bootstrap an empty registry" % kind
    assert [p.node_id for p in register(s, "fresh-2").peers] == ["fresh-1"]
    srv.assert_alive("after serving with a %s registry.json" % kind)
    if kind != "directory":
        srv.stop()
        assert srv.returncode == 0, "exit code after SIGTERM: %s" % srv.returncode
        with open(path, "rb") as f:
            saved = f.read()
        try:
            json.loads(saved)
        except ValueError:
            pytest.fail("after SIGTERM registry.json is still not valid JSON: %r" % saved[:300], pytrace=False)
        assert b'"fresh-1"' in saved and b'"fresh-2"' in saved, "new snapshot lacks the new nodes: %r" % saved[:500]
    else:
        # It can't save over a directory; it must still not crash on SIGTERM.
        srv.stop()
        assert srv.returncode == 0, "exit code after SIGTERM with an unwritable registry.json: %s\n%s" % (
            srv.returncode, srv.stderr_text(2000))


# --------------------------------------------------------------------------
# the discovery client


def _registered(e):
    return e.get("event") == "registered"


def _heartbeat_known(e):
    return e.get("event") == "heartbeat" and e.get("known") is True


def _unreachable(e):
    return e.get("event") == "unreachable"


def _check_registered_shape(e, who):
    for key, typ in (("bootstrap", bool), ("cluster_id", str), ("peers", list), ("from_cache", bool)):
        assert isinstance(e.get(key), typ), "%s: registered event field %r should be %s: %s" % (
            who, key, typ.__name__, json.dumps(e))
    assert "leader" in e and (e["leader"] is None or isinstance(e["leader"], str)), \
        "%s: registered.leader must be a string or null: %s" % (who, json.dumps(e))
    assert e["from_cache"] is False


def _assert_growing(retries, who):
    assert all(isinstance(r, int) and r > 0 for r in retries), "%s: retry_in_ms values %s" % (who, retries)
    assert max(retries[1:]) > retries[0] and max(retries) >= 1.5 * retries[0], \
        "%s: retry_in_ms should grow (capped exponential backoff), got %s" % (who, retries)


def test_discovery_agents_survive_gateway_restart(gateway_factory, stubs_factory, agent_factory):
    gw = gateway_factory()
    a1 = agent_factory(gw.address, "agent-1", heartbeat_ms=200)
    e1 = a1.wait_event(_registered, AGENT_EVENT_TIMEOUT, "registered event")
    _check_registered_shape(e1, "agent-1")
    assert e1["bootstrap"] is True, a1.describe("first agent must be told to bootstrap: %s" % json.dumps(e1))
    assert e1["cluster_id"], "bootstrap cluster_id is empty"
    cluster = e1["cluster_id"]

    a2 = agent_factory(gw.address, "agent-2", heartbeat_ms=200)
    e2 = a2.wait_event(_registered, AGENT_EVENT_TIMEOUT, "registered event")
    _check_registered_shape(e2, "agent-2")
    assert e2["bootstrap"] is False, a2.describe("second agent must not bootstrap: %s" % json.dumps(e2))
    assert e2["leader"] == "agent-1", a2.describe("second agent: leader should be agent-1: %s" % json.dumps(e2))
    assert e2["peers"] == ["agent-1"], a2.describe("second agent: peers should be [agent-1]: %s" % json.dumps(e2))
    assert e2["cluster_id"] == cluster

    for a in (a1, a2):
        a.wait_count(_heartbeat_known, 3, 5.0, "heartbeat known=true events")
        assert os.path.isfile(os.path.join(a.cache_dir, "discovery.json")), \
            "%s: no discovery.json in the cache dir after registering: %s" % (a.name, os.listdir(a.cache_dir))
    s = stubs_factory(gw)
    assert sorted((p.node_id, p.stale) for p in list_peers(s).peers) == [("agent-1", False), ("agent-2", False)]
    _assert_persisted(gw, ["agent-1", "agent-2"])

    # Gateway dies: the agents report it and back off, but keep running.
    kill9(gw)
    t_kill = time.monotonic()
    for a in (a1, a2):
        evs = a.wait_count(_unreachable, 4, 20.0, "unreachable events after kill -9 of the gateway",
                           since=t_kill)
        for e in evs:
            assert isinstance(e.get("error"), str) and e["error"], "unreachable.error: %s" % json.dumps(e)
        _assert_growing([e.get("retry_in_ms") for e in evs], a.name)
        assert a.is_alive(), a.describe("%s died while the gateway was down" % a.name)

    # Gateway comes back on the same port and data dir.
    gw2 = gateway_factory(data_dir=gw.data_dir, listen="%s:%d" % (LOOPBACK, gw.port), name="gateway (restarted)")
    t_restart = time.monotonic()
    s2 = stubs_factory(gw2)

    def both_confirmed():
        got = sorted((p.node_id, p.stale) for p in list_peers(s2).peers)
        return got == [("agent-1", False), ("agent-2", False)]
    try:
        wait_until(both_confirmed, RECONFIRM_TIMEOUT, interval=0.1,
                   desc="both agents stale=false after the gateway restart")
    except AssertionError as e:
        got = sorted((p.node_id, p.stale) for p in list_peers(s2).peers)
        pytest.fail("%s; ListPeers: %s\n%s\n%s" % (e, got, a1.describe("agent-1"), a2.describe("agent-2")),
                    pytrace=False)
    reconfirm_s = time.monotonic() - t_restart
    print("agents re-confirmed %.2f s after the gateway restart" % reconfirm_s)

    for a in (a1, a2):
        a.wait_event(lambda e: _registered(e) or _heartbeat_known(e), 5.0,
                     "registered/heartbeat(known) event after the gateway restart", since=t_restart)
        for e in a.events_since(t_restart):
            if _registered(e):
                assert e["bootstrap"] is False and e["cluster_id"] == cluster, \
                    a.describe("%s re-registered after the restart with %s" % (a.name, json.dumps(e)))
        assert a.is_alive()
        assert not a.bad_lines, a.describe("%s printed non-JSON lines on stdout" % a.name)


def test_agent_restart_prints_cached_first(gateway_factory, agent_factory):
    gw = gateway_factory()
    a1 = agent_factory(gw.address, "c-agent-1", heartbeat_ms=200)
    e1 = a1.wait_event(_registered, AGENT_EVENT_TIMEOUT, "registered event")
    a2 = agent_factory(gw.address, "c-agent-2", heartbeat_ms=200)
    a2.wait_event(_registered, AGENT_EVENT_TIMEOUT, "registered event")
    a2.wait_event(_heartbeat_known, 5.0, "heartbeat known=true")
    cache_dir = a2.cache_dir
    assert os.path.isfile(os.path.join(cache_dir, "discovery.json"))
    rc, graceful = a2.stop()
    assert graceful, "agent did not exit within 10 s of SIGTERM"
    assert not a2.bad_lines, a2.describe("non-JSON stdout lines")

    a2b = agent_factory(gw.address, "c-agent-2", cache_dir=cache_dir, heartbeat_ms=200)
    first = a2b.wait_event(lambda e: True, AGENT_EVENT_TIMEOUT, "any event")
    assert first.get("event") == "cached", a2b.describe(
        "restarted agent with an existing cache: the first event must be 'cached', got %s" % json.dumps(first))
    if "cluster_id" in first:
        assert first["cluster_id"] == e1["cluster_id"], "cached cluster_id: %s" % json.dumps(first)
    e = a2b.wait_event(_registered, AGENT_EVENT_TIMEOUT, "registered event after the cached one")
    assert e["bootstrap"] is False and e["from_cache"] is False and e["leader"] == "c-agent-1", json.dumps(e)

    # With the gateway down, a cached agent still starts from its cache.
    kill9(gw)
    a2b.stop()
    a2c = agent_factory(gw.address, "c-agent-2", cache_dir=cache_dir, heartbeat_ms=200)
    first = a2c.wait_event(lambda e: True, AGENT_EVENT_TIMEOUT, "any event")
    assert first.get("event") == "cached", a2c.describe("gateway down: first event %s" % json.dumps(first))
    a2c.wait_count(_unreachable, 2, 10.0, "unreachable events (gateway down)")
    assert a2c.is_alive()


def test_agent_reregisters_when_gateway_forgets_it(gateway, stubs_factory, agent_factory):
    s = stubs_factory(gateway)
    a = agent_factory(gateway.address, "forgotten", heartbeat_ms=200)
    a.wait_event(_registered, AGENT_EVENT_TIMEOUT, "registered event")
    a.wait_event(_heartbeat_known, 5.0, "heartbeat known=true")
    t0 = time.monotonic()
    assert s.v1.Deregister(s.pb.DeregisterRequest(node_id="forgotten"), timeout=RPC_TIMEOUT).removed
    a.wait_event(lambda e: e.get("event") == "heartbeat" and e.get("known") is False, 5.0,
                 "heartbeat known=false after Deregister", since=t0)
    a.wait_event(_registered, 5.0, "re-registration after known=false", since=t0)
    wait_until(lambda: "forgotten" in peers_by_id(s), 5.0, desc="the agent back in ListPeers")


def test_hostile_registry_entries_are_dropped_and_named(gateway_factory, stubs_factory, tmp_path):
    """A well-formed registry.json with entries the API would refuse: those are
    dropped with a log line naming them; the valid rest is served."""
    data_dir = str(tmp_path / "hostile-data")
    os.makedirs(data_dir)

    def node(node_id, host=LOOPBACK, port=7400, caps=()):
        return {"nodeID": node_id, "address": {"host": host, "port": port}, "capabilities": list(caps),
                "metadata": {}, "joinedAt": 1e9, "lastSeen": 1e9, "leaseExpiresAt": 1e9 + 30, "confirmed": True}
    hostile = {
        "format": 1, "clusterID": "cluster-h", "version": 9, "bootstrapInitiated": True,
        "leader": {"nodeID": "ok-1", "term": 2 ** 64 - 1, "learnedAt": 1e9},
        "lastReport": {"term": 2 ** 64 - 1, "reportedAt": 1e9, "reporterID": "ok-1"},
        "nodes": [node("ok-1"), node("has space"), node("port-zero", port=0), node("bad-host", host="no such host!"),
                  node("nul-cap", caps=["a\u0000b"])],
    }
    with open(os.path.join(data_dir, "registry.json"), "w") as f:
        json.dump(hostile, f)
    srv = gateway_factory(data_dir=data_dir, name="gateway (hostile registry.json)")
    s = stubs_factory(srv)
    assert sorted(p.node_id for p in list_peers(s).peers) == ["ok-1"]
    for name in ('"has space"', '"port-zero"', '"bad-host"', '"nul-cap"', "2^62"):
        assert _wait_stderr(srv, name), "no stderr line names %s as dropped:\n%s" % (name, srv.stderr_text(3000))
    lead = s.v1.GetLeader(s.pb.GetLeaderRequest(), timeout=RPC_TIMEOUT)
    assert not lead.leader.node_id, "a leader with term 2^64-1 was restored: %s" % lead.leader
    # The forged last report (term 2^64-1) must not block real reports.
    ok = s.v1.ReportMembership(s.pb.ReportMembershipRequest(
        reporter_id="ok-1", leader_id="ok-1", term=3, reported_at_unix=time.time(),
        members=[s.pb.NodeEntry(node_id="ok-1", address=s.pb.NodeAddress(host=LOOPBACK, port=7400))]),
        timeout=RPC_TIMEOUT)
    assert ok.accepted, ok.reason
    r = register(s, "fresh-h")
    assert r.bootstrap is False and r.cluster_id == "cluster-h"
    srv.assert_alive()
