#!/usr/bin/env python3
"""Raft benchmark (not a test): a 3-node cluster of release `gossipfl peer`
processes on loopback, fsync on, measured side by side in the same run with a
3-member etcd (Debian etcd-server) when `etcd` is installed.

* commit throughput and latency: `gossipfl raft-bench` sends W writes from C
  concurrent callers to the leader (raft.v1.Cluster/Propose for us,
  etcdserverpb.KV/Put for etcd, same load generator, same payload); a call
  returns once the write is committed, so writes/s counts commits. The leader
  batches whatever arrives during one fsync into the next Ready.
* failover: kill -9 of the leader, then the time until a write through a
  survivor commits (polled every ~5 ms), over several trials. Both systems run
  with a 40 ms heartbeat and a 200 ms base election timeout (ours: 20 ms tick,
  heartbeat 2 ticks, election 10 ticks; etcd: --heartbeat-interval 40
  --election-timeout 200); both randomise the timeout up to twice the base.

Usage: raft_bench.py --gossipfl-bin .build/release/gossipfl [--quick]
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "Tests", "interop"))

import grpc  # noqa: E402

from interop_harness import LOOPBACK, pick_free_port  # noqa: E402
from raft_fixtures import ClusterCerts, PeerCluster, load_raft_protos  # noqa: E402
import ssl  # noqa: E402

DEFAULT_BIN = os.path.join(REPO_ROOT, ".build", "release", "gossipfl")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def raft_bench(binary, leader_address, target, clients, writes, size=128, security=("--insecure",)):
    cmd = [binary, "raft-bench", "--leader", leader_address, "--target", target, "--clients", str(clients),
           "--writes", str(writes), "--size", str(size)] + list(security)
    log("  $ " + " ".join(cmd))
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    line = (p.stdout.strip().splitlines() or ["{}"])[-1]
    try:
        result = json.loads(line)
    except ValueError:
        raise RuntimeError("raft-bench printed no JSON (rc=%s): %s %s" % (p.returncode, p.stdout, p.stderr))
    if p.returncode != 0:
        raise RuntimeError("raft-bench failed: %s" % line)
    return result


# --------------------------------------------------------------------------
# ours


class OurCluster:
    name = "gossipfl"

    def __init__(self, binary, root, certs=None):
        self.binary = binary
        self.cluster = PeerCluster(binary, os.path.join(root, "gossipfl"), tick_ms=20, certs=certs)
        self.cluster.start_static(3)
        if self.cluster.wait_voters(3) is None:
            raise RuntimeError("our cluster did not form")

    def leader(self):
        peer = self.cluster.leader(timeout=10)
        if peer is None:
            raise RuntimeError("no leader")
        return peer

    def leader_address(self):
        return self.leader().address

    def try_write(self, member, data):
        pb = load_raft_protos().pb
        try:
            return member.cluster.Propose(pb.ProposeRequest(data=data), timeout=0.2).committed
        except grpc.RpcError:
            return False

    def failover_trial(self):
        leader = self.leader()
        survivors = [p for p in self.cluster.alive() if p is not leader]
        leader.kill9()
        start = time.monotonic()
        elapsed = poll_write(lambda: any(self.try_write(p, b"failover") for p in survivors), start)
        leader.start()
        catch_up = self.cluster.wait_voters(3)
        if catch_up is None:
            raise RuntimeError("cluster did not heal after restarting %s" % leader.node_id)
        return elapsed

    def close(self):
        self.cluster.close()


# --------------------------------------------------------------------------
# etcd


class EtcdMember:
    """With `certs`: TLS on client and peer URLs, and certificates required on both
    (--client-cert-auth, --peer-client-cert-auth), from the same CA as our peers."""

    def __init__(self, name, root, client_port, peer_port, initial_cluster, certs=None):
        self.name, self.client_port, self.peer_port = name, client_port, peer_port
        self.certs = certs
        self.scheme = "https" if certs else "http"
        self.data_dir = os.path.join(root, name)
        self.initial_cluster = initial_cluster
        self.proc = None
        self.channel = None
        self.start(new=True)

    @property
    def address(self):
        return "%s:%d" % (LOOPBACK, self.client_port)

    def start(self, new=False):
        url = "%s://%s" % (self.scheme, self.address)
        peer_url = "%s://%s:%d" % (self.scheme, LOOPBACK, self.peer_port)
        cmd = ["etcd", "--name", self.name, "--data-dir", self.data_dir,
               "--listen-client-urls", url, "--advertise-client-urls", url,
               "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
               "--initial-cluster", self.initial_cluster, "--initial-cluster-state", "new" if new else "existing",
               "--heartbeat-interval", "40", "--election-timeout", "200", "--log-level", "error", "--logger", "zap"]
        if self.certs:
            cert, key = self.certs.issue("node", self.name)
            cmd += ["--cert-file", cert, "--key-file", key, "--trusted-ca-file", self.certs.ca, "--client-cert-auth",
                    "--peer-cert-file", cert, "--peer-key-file", key, "--peer-trusted-ca-file", self.certs.ca,
                    "--peer-client-cert-auth"]
        self.log = open(self.data_dir + ".log", "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        if self.certs:
            self.channel = grpc.secure_channel(self.address, self.certs.credentials("admin", "operator"))
        else:
            self.channel = grpc.insecure_channel(self.address)
        self.put = self.channel.unary_unary("/etcdserverpb.KV/Put")

    def _ssl_context(self):
        if not self.certs:
            return None
        context = ssl.create_default_context(cafile=self.certs.ca)
        context.load_cert_chain(*self.certs.issue("admin", "operator"))
        return context

    def status(self):
        req = urllib.request.Request("%s://%s/v3/maintenance/status" % (self.scheme, self.address), data=b"{}",
                                     method="POST")
        with urllib.request.urlopen(req, timeout=1, context=self._ssl_context()) as r:
            body = json.loads(r.read())
        return int(body["header"]["member_id"]), int(body.get("leader", 0))

    def try_write(self, data):
        try:
            self.put(b"\x0a\x08failover\x12" + bytes([len(data)]) + data, timeout=0.2)
            return True
        except grpc.RpcError:
            return False

    def kill9(self):
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.channel:
            self.channel.close()


class EtcdCluster:
    name = "etcd"

    def __init__(self, root, certs=None):
        root = os.path.join(root, "etcd")
        os.makedirs(root)
        ports = [(pick_free_port(), pick_free_port()) for _ in range(3)]
        scheme = "https" if certs else "http"
        initial = ",".join("e%d=%s://%s:%d" % (i + 1, scheme, LOOPBACK, pp) for i, (_, pp) in enumerate(ports))
        self.members = [EtcdMember("e%d" % (i + 1), root, cp, pp, initial, certs) for i, (cp, pp) in enumerate(ports)]
        self.leader()

    def alive(self):
        return [m for m in self.members if m.proc.poll() is None]

    def leader(self, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                ids = {}
                leader_id = None
                for m in self.alive():
                    member_id, leader_id = m.status()
                    ids[member_id] = m
                if leader_id in ids and ids[leader_id].try_write(b"probe"):
                    return ids[leader_id]
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("etcd has no leader")

    def leader_address(self):
        return self.leader().address

    def failover_trial(self):
        leader = self.leader()
        survivors = [m for m in self.alive() if m is not leader]
        leader.kill9()
        start = time.monotonic()
        elapsed = poll_write(lambda: any(m.try_write(b"failover") for m in survivors), start)
        leader.start(new=False)
        self.leader()
        return elapsed

    def close(self):
        for m in self.members:
            m.stop()


def poll_write(attempt, start, timeout=15.0):
    while time.monotonic() - start < timeout:
        if attempt():
            return time.monotonic() - start
        time.sleep(0.005)
    raise RuntimeError("no write committed within %.0f s of the kill" % timeout)


# --------------------------------------------------------------------------


def measure(system, binary, args, security):
    target = "gossipfl" if system.name == "gossipfl" else "etcd"
    leader = system.leader_address()
    out = {}
    for clients, writes in ((1, args.latency_writes), (64, args.writes)):
        raft_bench(binary, leader, target, clients, max(writes // 10, 100), security=security)  # warm-up
        out[clients] = raft_bench(binary, leader, target, clients, writes, security=security)
    out["failover"] = []
    for i in range(args.failovers):
        out["failover"].append(system.failover_trial())
        log("  failover %d: %.3f s" % (i + 1, out["failover"][-1]))
    return out


def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "n/a"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gossipfl-bin", default=DEFAULT_BIN)
    ap.add_argument("--writes", type=int, default=30000, help="writes at 64 concurrent callers")
    ap.add_argument("--latency-writes", type=int, default=2000, help="writes at 1 caller")
    ap.add_argument("--failovers", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tls", action="store_true",
                    help="mutual TLS everywhere: our peers with `gossipfl certs` certificates; etcd with TLS on client and"
                         " peer URLs, --client-cert-auth and --peer-client-cert-auth; the load generator presents an"
                         " admin certificate to both")
    args = ap.parse_args()
    if args.quick:
        args.writes, args.latency_writes, args.failovers = 2000, 200, 2
    binary = os.path.abspath(args.gossipfl_bin)
    root = tempfile.mkdtemp(prefix="gossipfl-raft-bench-", dir=os.environ.get("RAFT_BENCH_DIR"))
    results = {}
    failed = []
    certs = ClusterCerts(binary, os.path.join(root, "certs")) if args.tls else None
    security = certs.args("admin", "operator") if certs else ["--insecure"]
    try:
        for name, make in (("gossipfl", lambda: OurCluster(binary, root, certs)),
                           ("etcd", (lambda: EtcdCluster(root, certs)) if shutil.which("etcd") else None)):
            if make is None:
                log("# etcd not installed: skipping the etcd anchor (apt-get install etcd-server)")
                continue
            log("# %s: 3 members on loopback" % name)
            system = None
            try:
                system = make()
                results[name] = measure(system, binary, args, security)
            except (RuntimeError, grpc.RpcError, OSError, subprocess.TimeoutExpired) as e:
                failed.append("%s: %s" % (name, e))
            finally:
                if system is not None:
                    system.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    ours, etcd = results.get("gossipfl"), results.get("etcd")
    print("## Raft benchmark: 3 members on loopback, fsync on%s\n" % (
        ", mutual TLS (peers and clients)" if args.tls else ", plain text"))
    print("host: %s, %d CPUs; data dirs under %s; etcd: %s%s\n" % (
        platform.platform(), os.cpu_count() or 0, os.environ.get("RAFT_BENCH_DIR") or tempfile.gettempdir(),
        subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        if shutil.which("etcd") else "not installed", " (--quick: numbers not meaningful)" if args.quick else ""))
    print("| scenario | metric | gossipfl | etcd | gossipfl/etcd |")
    print("|---|---|---:|---:|---:|")

    def get(r, c, k):
        return r[c][k] if r and c in r else None

    for c in (1, 64):
        for key, label in (("per_second", "committed writes/s"), ("p50_ms", "p50 latency ms"), ("p99_ms", "p99 latency ms")):
            a, b = get(ours, c, key), get(etcd, c, key)
            print("| 128 B writes, %d caller%s | %s | %s | %s | %s |" % (
                c, "" if c == 1 else "s", label, "%.1f" % a if a is not None else "-",
                "%.1f" % b if b is not None else "-", ratio(a, b)))
    for key, label, fn in (("failover", "median s", lambda xs: sorted(xs)[len(xs) // 2]),
                           ("failover", "max s", max)):
        a = fn(ours["failover"]) if ours and ours["failover"] else None
        b = fn(etcd["failover"]) if etcd and etcd["failover"] else None
        print("| kill -9 leader -> next committed write (%d trials) | %s | %s | %s | %s |" % (
            args.failovers, label, "%.3f" % a if a is not None else "-", "%.3f" % b if b is not None else "-", ratio(a, b)))
    print("\nwrites/s: higher is better; latency and failover: lower is better. Same load generator"
          " (`gossipfl raft-bench`) for both systems.")
    if failed:
        print("\nFAILURES:\n" + "\n".join("- " + f for f in failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
