#!/usr/bin/env python3
"""Gateway discovery benchmark (not a test).

    python bench/gateway_bench.py [--gossipfl-bin .build/release/gossipfl] [--quick]

What it runs (everything on 127.0.0.1, every process started here is stopped):

1. Registration throughput of our gateway, driven by our Swift client:
   for C in --clients (default 1,16), a *fresh* gateway (empty temp data dir)
   and `gossipfl gateway-bench --gateway ADDR --clients C --registrations N`
   (N distinct nodes, C concurrent Swift clients).  Its JSON line gives
   registrations/s, p50, p99 and errors.

2. Reference row at the same concurrency: the same kind of registrations
   (gateway.v1 Register, distinct node ids, one channel per client thread)
   from a grpcio *Python* client pool against OUR gateway -- labelled
   "grpcio client -> our gateway".  The server is the same; the difference
   with (1) is the client-side cost (Python + GIL + grpcio).  It uses a
   smaller N (--py-registrations) because it is slower.

3. Memory: a fresh gateway, VmRSS from /proc/<pid>/status right after start,
   then --rss-nodes (default 10,000) registrations through `gateway-bench`,
   VmRSS (and VmHWM) again, and the per-node delta.  ListPeers must return
   all of them.

4. With --compare-bin OTHER (e.g. a release build of an older commit): the
   Swift-client rows again against a gateway started from OTHER (same client,
   same N, interleaved with ours), and a side-by-side table with the ratio.

--quick: small N for a smoke run (numbers not meaningful).
Exits non-zero if a process fails or any registration errored (the tables
are printed regardless).

Note the gateway answers a registration only once it is on disk (its
journal, one fdatasync per group commit), so throughput includes that cost.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "Tests", "interop"))

import grpc  # noqa: E402

import gateway_fixtures as gf  # noqa: E402

DEFAULT_BIN = os.path.join(REPO_ROOT, ".build", "release", "gossipfl")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def read_status(pid, keys=("VmRSS", "VmHWM")):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0])  # kB
    return out


class Gateway:
    """A fresh gateway in its own temp data dir (context manager)."""

    def __init__(self, binary, label, security=("--insecure",)):
        """`security=()` for a build from before --insecure existed (--compare-bin)."""
        self.dir = tempfile.mkdtemp(prefix="gateway-bench-")
        self.srv = gf.launch_gateway(binary, os.path.join(self.dir, "data"), name="gateway (%s)" % label,
                                     security=security)

    def __enter__(self):
        return self.srv

    def __exit__(self, *exc):
        self.srv.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_swift_bench(binary, address, clients, n, timeout):
    cmd = [binary, "gateway-bench", "--gateway", address, "--clients", str(clients),
           "--registrations", str(n), "--insecure"]
    log("  $ " + " ".join(cmd))
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError("gateway-bench did not finish within %.0f s" % timeout)
    result = None
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except ValueError:
                pass
    if p.returncode != 0 or result is None:
        raise RuntimeError("gateway-bench failed (rc=%s)\n  stdout:\n%s\n  stderr:\n%s" % (
            p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    for k in ("registrations", "seconds", "per_second", "p50_ms", "p99_ms", "errors"):
        if k not in result:
            raise RuntimeError("gateway-bench output lacks %r: %s" % (k, result))
    return result


def run_py_pool(protos, address, clients, n, prefix):
    """n distinct Register calls from `clients` threads, one grpcio channel each."""
    pb = protos.v1
    channels = [grpc.insecure_channel(address) for _ in range(clients)]
    for ch in channels:
        grpc.channel_ready_future(ch).result(timeout=10)
    stubs = [protos.v1_grpc.GatewayStub(ch) for ch in channels]
    # Pre-build requests so the timed loop is the call itself.
    reqs = [pb.RegisterRequest(node_id="%s-%d" % (prefix, k),
                               address=pb.NodeAddress(host="127.0.0.1", port=10000 + k % 50000))
            for k in range(n)]
    lat = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)

    def worker(i):
        stub, mine = stubs[i], lat[i]
        barrier.wait()
        for k in range(i, n, clients):
            t = time.perf_counter()
            try:
                stub.Register(reqs[k], timeout=10)
            except grpc.RpcError:
                errors[i] += 1
            mine.append(time.perf_counter() - t)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    for ch in channels:
        ch.close()
    all_lat = sorted(x for l in lat for x in l)

    def pct(p):
        return all_lat[min(len(all_lat) - 1, int(len(all_lat) * p))] * 1000.0

    return {"registrations": n, "seconds": secs, "per_second": n / secs, "p50_ms": pct(0.50),
            "p99_ms": pct(0.99), "errors": sum(errors)}


def count_peers(protos, address):
    with grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 256 * 1024 * 1024)]) as ch:
        resp = protos.v1_grpc.GatewayStub(ch).ListPeers(protos.v1.ListPeersRequest(), timeout=30)
        return len(resp.peers), len(resp.SerializeToString())


def fmt_row(label, clients, r):
    return "| %s | %d | %d | %.0f | %.3f | %.3f | %d |" % (
        label, clients, r["registrations"], r["per_second"], r["p50_ms"], r["p99_ms"], r["errors"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gossipfl-bin", default=DEFAULT_BIN, help="gossipfl binary (release build)")
    ap.add_argument("--clients", default="1,16", help="comma-separated concurrency levels")
    ap.add_argument("--registrations", type=int, default=20000, help="N for gateway-bench")
    ap.add_argument("--py-registrations", type=int, default=5000, help="N for the grpcio client pool")
    ap.add_argument("--rss-nodes", type=int, default=10000, help="nodes registered for the RSS measurement")
    ap.add_argument("--quick", action="store_true", help="smoke run with small N")
    ap.add_argument("--compare-bin", help="another gossipfl whose gateway gets the same Swift-client runs")
    ap.add_argument("--compare-security", default="",
                    help="security flags for the --compare-bin gateway (\"--insecure\" for builds that have it)")
    args = ap.parse_args()
    if args.quick:
        args.registrations, args.py_registrations, args.rss_nodes = 500, 200, 1000
    binary = os.path.abspath(args.gossipfl_bin)
    msg = gf.check_gossipfl_bin(binary)
    if msg:
        sys.exit(msg)
    clients_list = [int(c) for c in args.clients.split(",") if c.strip()]
    protos = gf.load_gateway_protos()
    load_start = os.getloadavg()
    failed = []
    rows = []

    log("# registration throughput")
    compare = []
    for c in clients_list:
        if args.compare_bin:
            other = os.path.abspath(args.compare_bin)
            try:
                with Gateway(other, "compare clients=%d" % c, security=args.compare_security.split()) as srv:
                    r = run_swift_bench(binary, srv.address, c, args.registrations,
                                        timeout=max(120.0, args.registrations / 50.0))
                compare.append((c, r))
            except (RuntimeError, gf.GatewayError) as e:
                failed.append("compare gateway-bench c=%d: %s" % (c, e))
        try:
            with Gateway(binary, "swift clients=%d" % c) as srv:
                r = run_swift_bench(binary, srv.address, c, args.registrations,
                                    timeout=max(120.0, args.registrations / 50.0))
                if not srv.is_alive():
                    failed.append("gateway died during gateway-bench c=%d" % c)
            rows.append(("ours: Swift client (`gossipfl gateway-bench`) -> our gateway", c, r))
            if r["errors"]:
                failed.append("gateway-bench c=%d: %d errors" % (c, r["errors"]))
        except (RuntimeError, gf.GatewayError) as e:
            failed.append("gateway-bench c=%d: %s" % (c, e))
        try:
            with Gateway(binary, "grpcio clients=%d" % c) as srv:
                log("  grpcio client pool: clients=%d N=%d" % (c, args.py_registrations))
                r = run_py_pool(protos, srv.address, c, args.py_registrations, "py%d" % c)
            rows.append(("reference: grpcio client -> our gateway", c, r))
            if r["errors"]:
                failed.append("grpcio pool c=%d: %d errors" % (c, r["errors"]))
        except (RuntimeError, gf.GatewayError, grpc.FutureTimeoutError) as e:
            failed.append("grpcio pool c=%d: %s" % (c, e))

    rss = None
    log("# memory: %d registrations" % args.rss_nodes)
    try:
        with Gateway(binary, "rss") as srv:
            time.sleep(0.5)
            before = read_status(srv.proc.pid)
            r = run_swift_bench(binary, srv.address, 16, args.rss_nodes, timeout=max(120.0, args.rss_nodes / 50.0))
            time.sleep(0.5)
            after = read_status(srv.proc.pid)
            n_peers, list_bytes = count_peers(protos, srv.address)
            after_list = read_status(srv.proc.pid)
            rss = (before, after, after_list, n_peers, list_bytes, r)
            if n_peers != args.rss_nodes:
                failed.append("ListPeers returned %d entries after %d registrations" % (n_peers, args.rss_nodes))
            if r["errors"]:
                failed.append("rss gateway-bench: %d errors" % r["errors"])
    except (RuntimeError, gf.GatewayError, grpc.RpcError) as e:
        failed.append("rss run: %s" % e)

    load_end = os.getloadavg()
    print("## Gateway registration benchmark\n")
    print("host: %s, %d CPUs, Python %s, grpcio %s; binary %s%s" % (
        platform.platform(), os.cpu_count() or 0, platform.python_version(), grpc.__version__, binary,
        " (--quick: numbers not meaningful)" if args.quick else ""))
    print("load average (1 min) at start %.2f, at end %.2f -- other work on the host skews the numbers\n" % (
        load_start[0], load_end[0]))
    print("| client -> server | clients | registrations | registrations/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, c, r in rows:
        print(fmt_row(label, c, r))
    if compare:
        ours = {c: r for label, c, r in rows if label.startswith("ours")}
        print("\nSame Swift client against this gateway and against %s:\n" % os.path.abspath(args.compare_bin))
        print("| clients | this registrations/s | compared registrations/s | ratio | this p50 ms | compared p50 ms |")
        print("|---:|---:|---:|---:|---:|---:|")
        for c, r in compare:
            if c in ours:
                o = ours[c]
                print("| %d | %.0f | %.0f | %.2f | %.3f | %.3f |" % (
                    c, o["per_second"], r["per_second"], o["per_second"] / r["per_second"], o["p50_ms"], r["p50_ms"]))
    print("\nEvery row starts a fresh gateway with an empty data dir; node ids are distinct.")
    print("The grpcio rows use the same server: the gap to the Swift rows is client-side cost.\n")
    if rss:
        before, after, after_list, n_peers, list_bytes, r = rss
        delta = after["VmRSS"] - before["VmRSS"]
        print("## Gateway memory (VmRSS from /proc/<pid>/status)\n")
        print("| | VmRSS | VmHWM |")
        print("|---|---:|---:|")
        print("| after start (empty) | %.1f MiB | %.1f MiB |" % (before["VmRSS"] / 1024, before["VmHWM"] / 1024))
        print("| after %d registrations | %.1f MiB | %.1f MiB |" % (
            args.rss_nodes, after["VmRSS"] / 1024, after["VmHWM"] / 1024))
        print("| after one ListPeers (%d entries, %d bytes) | %.1f MiB | %.1f MiB |" % (
            n_peers, list_bytes, after_list["VmRSS"] / 1024, after_list["VmHWM"] / 1024))
        print("\nRSS growth: %.1f MiB for %d nodes (%.0f bytes/node); registration run: %.0f reg/s, "
              "p99 %.3f ms." % (delta / 1024, args.rss_nodes, delta * 1024.0 / max(1, args.rss_nodes),
                                r["per_second"], r["p99_ms"]))
    if failed:
        print("\nFAILURES:\n" + "\n".join("- " + f for f in failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
