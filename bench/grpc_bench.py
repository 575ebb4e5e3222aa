#!/usr/bin/env python3
"""Side-by-side h2load benchmark: our Swift gRPC server vs C++ gRPC vs grpcio vs raw nghttpd.

    python bench/grpc_bench.py [--swift-bin .build/release/gossipfl-interop] [--quick] [--repeats N]

Servers (all on 127.0.0.1, started and stopped by this script):
  ours     `<swift-bin> server --port 0 --max_receive_message_size 33554432`
           (omitted when --swift-bin is not given)
  C++      bench/cpp/echo_server.cc on Debian's libgrpc++ (sync server, default
           thread pool), same flags; compiled here with g++ and pkg-config into
           .build/bench-cpp (omitted with --no-cpp)
  grpcio   Tests/interop/py_interop_server.py, same flags (16-thread pool)
  nghttpd  `nghttpd --no-tls` serving pre-built files holding exactly the
           gRPC-framed response bytes -- an upper-bound anchor for "HTTP/2
           request in, bytes out" with no gRPC work at all.

Scenarios (identical h2load command for every server, in the same run):
  unary 16 B, c=1 m=1     h2load -D <dur> --warm-up-time <w> -c 1 -m 1
  unary 16 B, c=4 m=64    h2load -D <dur> --warm-up-time <w> -c 4 -m 64
  unary 1 MiB echo, c=1   h2load -D <dur> --warm-up-time <w> -c 1 -m 1  (1 MiB each way)
  unary 16 MiB echo, c=1  h2load -n <N> -c 1 -m 1  (16 MiB request, 16 MiB response)
all with  -d <body> -H 'content-type: application/grpc' -H 'te: trailers'
against   http://127.0.0.1:PORT/grpc.testing.TestService/UnaryCall

Fairness: the small-message runs are *time-based* (-D, same duration and
warm-up for every server: grpcio does ~3k req/s here, a fixed -n would take
it 50x longer than the others); the 16 MiB run uses the same request count
for every server.  h2load can't see grpc-status, so before timing each gRPC
server gets the same request through a grpcio client and the response is
checked; h2load's own "succeeded"/2xx counts are checked for every run.
Every scenario runs --repeats times (default 3), the servers one after the
other within each repeat; the table shows medians, and a ratio is the ratio
of two medians from the same run.

Exits non-zero if a server fails to start or to answer the check, or if any
h2load run had failed/errored requests (the table is printed regardless).
"""

import argparse
import os
import platform
import re
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, ".."))
INTEROP_DIR = os.path.join(REPO_ROOT, "Tests", "interop")
sys.path.insert(0, INTEROP_DIR)

import interop_protos  # noqa: E402
from interop_harness import PY_SERVER, ServerProcess, make_tls_files  # noqa: E402

PATH = "/grpc.testing.TestService/UnaryCall"
BIG_PREFIX = "/big"  # nghttpd serves the 16 MiB response under /big/<PATH>
MID_PREFIX = "/mid"  # ... and the 1 MiB one under /mid/<PATH>
SMALL = 16
MID = 1024 * 1024
BIG = 16 * 1024 * 1024
MAX_RECV = 33554432
GRPC_HEADERS = ["-H", "content-type: application/grpc", "-H", "te: trailers"]


# --------------------------------------------------------------------------
# bodies


def grpc_frame(msg_bytes):
    return struct.pack(">BI", 0, len(msg_bytes)) + msg_bytes


def write_bodies(P, workdir):
    m = P.messages_pb2
    files = {}
    for name, size in (("small", SMALL), ("mid", MID), ("big", BIG)):
        req = m.SimpleRequest(response_type=m.COMPRESSABLE, response_size=size,
                              payload=m.Payload(type=m.COMPRESSABLE, body=bytes(size)))
        resp = m.SimpleResponse(payload=m.Payload(type=m.COMPRESSABLE, body=bytes(size)))
        body = os.path.join(workdir, name + ".body")
        with open(body, "wb") as f:
            f.write(grpc_frame(req.SerializeToString()))
        files[name] = (body, req, grpc_frame(resp.SerializeToString()))
    # nghttpd document root: the exact gRPC-framed response bytes.
    docroot = os.path.join(workdir, "docroot")
    for prefix, name in (("", "small"), (MID_PREFIX, "mid"), (BIG_PREFIX, "big")):
        path = os.path.join(docroot, (prefix + PATH).lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(files[name][2])
    return files, docroot


# --------------------------------------------------------------------------
# servers


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nghttpd:
    def __init__(self, binary, docroot, timeout=10.0, tls=None):
        self.port = free_port()
        self.host = "127.0.0.1"
        # 16 MiB stream/connection windows so the 16 MiB upload isn't throttled.
        self.cmd = [binary] + ([] if tls else ["--no-tls"]) + ["-d", docroot, "-w", "24", "-W", "24",
                                                                "--address", self.host, str(self.port)]
        if tls:
            self.cmd += [tls.key, tls.cert]
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("nghttpd exited with %s: %s" % (self.proc.returncode, self.log()))
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("nghttpd did not accept connections within %.0f s" % timeout)
                time.sleep(0.05)

    def log(self):
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-2000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


CPP_DIR = os.path.join(HERE, "cpp")
CPP_BUILD = os.path.join(REPO_ROOT, ".build", "bench-cpp")
CPP_PROTOS = ["grpc_testing/empty.proto", "grpc_testing/messages.proto", "grpc_testing/test.proto"]


def build_cpp_server():
    """Compiles bench/cpp/echo_server.cc (protoc + grpc_cpp_plugin, g++ -O2); reuses a build newer
    than its sources. Returns the binary's path; raises RuntimeError naming what is missing."""
    binary = os.path.join(CPP_BUILD, "echo_server")
    proto_root = os.path.join(REPO_ROOT, "Protos")
    sources = [os.path.join(CPP_DIR, "echo_server.cc")] + [os.path.join(proto_root, f) for f in CPP_PROTOS]
    if os.path.exists(binary) and os.path.getmtime(binary) > max(map(os.path.getmtime, sources)):
        return binary
    plugin = shutil.which("grpc_cpp_plugin")
    if not (plugin and shutil.which("protoc") and shutil.which("g++") and shutil.which("pkg-config")):
        raise RuntimeError("C++ gRPC server: needs protoc, grpc_cpp_plugin, g++ and pkg-config "
                           "(scripts/install-deps.sh --bench installs libgrpc++-dev protobuf-compiler-grpc "
                           "libprotobuf-dev)")
    gen = os.path.join(CPP_BUILD, "gen")
    os.makedirs(gen, exist_ok=True)
    steps = [
        ["protoc", "-I" + proto_root, "--cpp_out=" + gen, "--grpc_out=" + gen,
         "--plugin=protoc-gen-grpc=" + plugin] + [os.path.join(proto_root, f) for f in CPP_PROTOS],
        ["pkg-config", "--cflags", "--libs", "grpc++", "protobuf"],
    ]
    for step in steps[:1]:
        p = subprocess.run(step, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("C++ gRPC server: %s failed:\n%s" % (shlex.join(step), p.stderr[-2000:]))
    p = subprocess.run(steps[1], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("C++ gRPC server: pkg-config grpc++ protobuf failed:\n%s" % p.stderr[-2000:])
    generated = [os.path.join(gen, f.replace(".proto", suffix)) for f in CPP_PROTOS
                 for suffix in (".pb.cc", ".grpc.pb.cc")]
    cmd = (["g++", "-O2", "-std=c++17", "-I" + gen, sources[0]] + generated
           + ["-o", binary + ".tmp"] + shlex.split(p.stdout))
    print("building the C++ gRPC server ...", file=sys.stderr, flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("C++ gRPC server: %s failed:\n%s" % (shlex.join(cmd), p.stderr[-4000:]))
    os.replace(binary + ".tmp", binary)
    return binary


def verify_grpc_server(P, host, port, files, tls=None):
    """One real gRPC call per body through grpcio; raises on any mismatch."""
    import grpc
    opts = [("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)]
    if tls:
        with open(tls.ca, "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        channel = grpc.secure_channel("%s:%d" % (host, port), creds, options=opts)
    else:
        channel = grpc.insecure_channel("%s:%d" % (host, port), options=opts)
    with channel as ch:
        stub = P.test_pb2_grpc.TestServiceStub(ch)
        for name, (_, req, _) in files.items():
            resp = stub.UnaryCall(req, timeout=60)
            if resp.payload.body != bytes(req.response_size):
                raise RuntimeError("%s: bad %s response (%d bytes)" % (name, name, len(resp.payload.body)))


# --------------------------------------------------------------------------
# h2load


_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def _dur(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if not m:
        raise ValueError("bad duration %r" % text)
    return float(m.group(1)) * _UNITS_S[m.group(2)]


def parse_h2load(out, in_flight=0):
    """Extract the numbers we report from h2load's text output. `in_flight`: how many
    requests a time-based run may cut at either end of its measured window (response
    headers counted as 2xx in one phase, the request counted as succeeded in the other)."""
    r = {}
    m = re.search(r"^finished in ([\d.]+\w+), ([\d.]+) req/s", out, re.M)
    if not m:
        raise ValueError("no 'finished in' line")
    r["finished_s"] = _dur(m.group(1))
    r["req_per_s"] = float(m.group(2))
    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out, re.M)
    if not m:
        raise ValueError("no 'requests:' line")
    (r["total"], r["started"], r["done"], r["succeeded"], r["failed"], r["errored"],
     r["timeout"]) = map(int, m.groups())
    m = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out, re.M)
    if not m:
        raise ValueError("no 'status codes:' line")
    r["2xx"], r["3xx"], r["4xx"], r["5xx"] = map(int, m.groups())
    m = re.search(r"^traffic: \S+ \((\d+)\) total", out, re.M)
    r["traffic_bytes"] = int(m.group(1)) if m else None
    m = re.search(r"^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if not m:
        raise ValueError("no 'time for request:' line")
    r["lat_min_s"], r["lat_max_s"], r["lat_mean_s"], r["lat_sd_s"] = map(_dur, m.groups())
    # received bytes per second (h2load's traffic counts what it received)
    if r["traffic_bytes"] is not None and r["done"]:
        r["recv_bytes_per_s"] = r["traffic_bytes"] / r["done"] * r["req_per_s"]
    else:
        r["recv_bytes_per_s"] = None
    problems = []
    if r["succeeded"] == 0:
        problems.append("no request succeeded")
    if r["failed"] or r["errored"] or r["timeout"]:
        problems.append("%d failed, %d errored, %d timeout" % (r["failed"], r["errored"], r["timeout"]))
    if abs(r["2xx"] - r["succeeded"]) > in_flight:
        problems.append("%d 2xx of %d succeeded" % (r["2xx"], r["succeeded"]))
    r["problems"] = problems
    return r


def run_h2load(h2load, url, body, load_args, timeout):
    cmd = [h2load] + load_args + ["-d", body] + GRPC_HEADERS + [url]
    in_flight = 0
    if "-D" in load_args:
        in_flight = int(load_args[load_args.index("-c") + 1]) * int(load_args[load_args.index("-m") + 1])
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"problems": ["h2load killed after %.0f s" % timeout], "cmd": cmd}
    try:
        r = parse_h2load(p.stdout, in_flight)
    except ValueError as e:
        return {"problems": ["unparsable h2load output (%s, rc=%s): %s %s" % (
            e, p.returncode, p.stdout[-500:], p.stderr[-500:])], "cmd": cmd}
    if p.returncode != 0:
        r["problems"].append("h2load rc=%d" % p.returncode)
    r["cmd"] = cmd
    return r


# --------------------------------------------------------------------------
# table


def fmt(v, kind):
    if v is None:
        return "-"
    if kind == "rps":
        return "%.0f" % v if v >= 100 else "%.2f" % v
    if kind == "ms":
        return "%.3f" % (v * 1e3)
    if kind == "mibs":
        return "%.1f" % (v / (1 << 20))
    return str(v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return "%.2fx" % (a / b)


def median(values):
    values = sorted(values)
    n = len(values)
    if n == 0:
        return None
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


COLUMNS = ("ours", "C++", "grpcio", "nghttpd")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--swift-bin", help="gossipfl-interop binary (release build); omit to skip 'ours'")
    ap.add_argument("--quick", action="store_true", help="short smoke run")
    ap.add_argument("--duration", type=float, help="seconds per time-based run (default 5, quick 1)")
    ap.add_argument("--warm-up", type=float, help="warm-up seconds (default 1, quick 0.5)")
    ap.add_argument("--big-requests", type=int, help="requests in the 16 MiB run (default 10, quick 2)")
    ap.add_argument("--repeats", type=int, help="runs of every scenario per server (default 3, quick 1)")
    ap.add_argument("--only", action="append", default=[],
                    help="run only scenarios whose title contains this text (repeatable), e.g. '1 MiB'")
    ap.add_argument("--h2load", default=shutil.which("h2load") or "h2load")
    ap.add_argument("--nghttpd", default=shutil.which("nghttpd") or "/usr/sbin/nghttpd")
    ap.add_argument("--no-nghttpd", action="store_true")
    ap.add_argument("--cpp-bin", help="a prebuilt bench/cpp/echo_server (default: build it)")
    ap.add_argument("--no-cpp", action="store_true", help="skip the C++ gRPC server")
    ap.add_argument("--no-grpcio", action="store_true", help="skip the grpcio server")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every h2load command")
    ap.add_argument("--tls", action="store_true",
                    help="every server over TLS (ALPN h2, one RSA-2048 certificate for all); ours also verifies client"
                         " certificates against the CA when presented (h2load presents none)")
    args = ap.parse_args(argv)

    duration = args.duration or (1.0 if args.quick else 5.0)
    warm = args.warm_up if args.warm_up is not None else (0.5 if args.quick else 1.0)
    big_n = args.big_requests or (2 if args.quick else 10)
    repeats = args.repeats or (1 if args.quick else 3)
    for tool in [args.h2load] + ([] if args.no_nghttpd else [args.nghttpd]):
        if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
            print("error: %s not found (install nghttp2-client / nghttp2-server)" % tool, file=sys.stderr)
            return 2
    if args.swift_bin and not (os.path.isfile(args.swift_bin) and os.access(args.swift_bin, os.X_OK)):
        print("error: --swift-bin %s is not an executable file" % args.swift_bin, file=sys.stderr)
        return 2
    cpp_bin = None
    if not args.no_cpp:
        try:
            cpp_bin = os.path.abspath(args.cpp_bin) if args.cpp_bin else build_cpp_server()
        except RuntimeError as e:
            print("error: %s" % e, file=sys.stderr)
            return 2

    workdir = tempfile.mkdtemp(prefix="grpc-bench-")
    servers = {}  # column -> (host, port, stopper)
    exit_code = 0
    try:
        P = interop_protos.load(os.path.join(workdir, "protos"))
        files, docroot = write_bodies(P, workdir)
        server_flags = ["--port", "0", "--host", "127.0.0.1", "--max_receive_message_size", str(MAX_RECV)]
        tls = make_tls_files(workdir) if args.tls else None
        if tls:
            server_flags += ["--use_tls", "--tls_cert_file", tls.cert, "--tls_key_file", tls.key]
        columns = []
        if args.swift_bin:
            ours_flags = server_flags + (["--tls_client_ca_file", tls.ca] if tls else [])
            columns.append(("ours", [os.path.abspath(args.swift_bin), "server"] + ours_flags))
        if cpp_bin:
            columns.append(("C++", [cpp_bin] + server_flags))
        if not args.no_grpcio:
            columns.append(("grpcio", [sys.executable, PY_SERVER] + server_flags))
        for col, cmd in columns:
            try:
                srv = ServerProcess(cmd, name=col)
            except RuntimeError as e:
                print("error: %s server failed to start:\n%s" % (col, e), file=sys.stderr)
                return 1
            servers[col] = srv
            try:
                verify_grpc_server(P, srv.host, srv.port, files, tls)
            except Exception as e:  # noqa: BLE001
                print("error: %s server failed the pre-check gRPC call: %s\nstderr:\n%s"
                      % (col, e, srv.stderr_text()), file=sys.stderr)
                return 1
        if not args.no_nghttpd:
            try:
                servers["nghttpd"] = Nghttpd(args.nghttpd, docroot, tls=tls)
            except RuntimeError as e:
                print("error: %s" % e, file=sys.stderr)
                return 1

        # h2load durations take integer values with a unit suffix.
        timed = ["-D", "%dms" % round(duration * 1000), "--warm-up-time", "%dms" % round(warm * 1000)]
        scenarios = [
            ("unary 16 B, c=1 m=1", "small", timed + ["-c", "1", "-m", "1"], ["rps", "ms"]),
            ("unary 16 B, c=4 m=64", "small", timed + ["-c", "4", "-m", "64"], ["rps", "ms"]),
            ("unary 1 MiB echo, c=1", "mid", timed + ["-c", "1", "-m", "1"], ["rps", "ms", "mibs"]),
            ("unary 16 MiB echo, c=1", "big", ["-n", str(big_n), "-c", "1", "-m", "1"],
             ["rps", "ms", "mibs"]),
        ]
        if args.only:
            scenarios = [sc for sc in scenarios if any(o in sc[0] for o in args.only)]
        prefixes = {"small": "", "mid": MID_PREFIX, "big": BIG_PREFIX}
        col_names = [c for c in COLUMNS if c in servers]
        results = {}  # (title, col) -> [h2load result per repeat]
        for title, body_name, load, _ in scenarios:
            for rep in range(repeats):
                for col in col_names:
                    srv = servers[col]
                    path = (prefixes[body_name] + PATH) if col == "nghttpd" else PATH
                    url = "%s://%s:%d%s" % ("https" if tls else "http", srv.host, srv.port, path)
                    timeout = duration + warm + 120 if "-D" in load else 300
                    print("running %-24s %-8s %d/%d ..." % (title, col, rep + 1, repeats), end="", flush=True,
                          file=sys.stderr)
                    if isinstance(srv, ServerProcess) and not srv.is_alive():
                        r = {"problems": ["server %s before this run" % srv.state()], "cmd": []}
                    else:
                        r = run_h2load(args.h2load, url, files[body_name][0], load, timeout)
                    results.setdefault((title, col), []).append(r)
                    if "req_per_s" in r:
                        print(" %.0f req/s" % r["req_per_s"], file=sys.stderr)
                    else:
                        print(" FAILED", file=sys.stderr)
                    if args.verbose:
                        print("  $ " + shlex.join(r["cmd"]), file=sys.stderr)
                    if r["problems"]:
                        exit_code = 1
                        print("  problem: %s" % "; ".join(r["problems"]), file=sys.stderr)
                    if isinstance(srv, ServerProcess):
                        time.sleep(0.5)  # a server crashing on the closed connections dies now
                        if not srv.is_alive() and not getattr(srv, "death_reported", False):
                            srv.death_reported = True
                            print("error: %s server is %s after this run; stderr:\n%s"
                                  % (col, srv.state(), srv.stderr_text()), file=sys.stderr)
                            exit_code = 1

        # ---- report
        sys.stderr.flush()
        print()
        print("## gRPC unary benchmark%s (h2load %s, %s, %d CPUs%s)" % (
            " over TLS" if tls else "", h2load_version(args.h2load), platform.machine(), os.cpu_count() or 0,
            ", QUICK" if args.quick else ""))
        print()
        print("Time-based runs: `-D %gs --warm-up-time %gs` for every server; 16 MiB run: `-n %d` for every "
              "server. Medians of %d repeats (servers interleaved in each repeat; req/s with min-max). "
              "Latency = h2load mean time for request. MiB/s = bytes received by h2load (the request "
              "direction carries as much again)." % (duration, warm, big_n, repeats))
        print()
        print("| scenario | metric | ours | C++ gRPC | grpcio | nghttpd | ours/C++ | ours/grpcio | ours/nghttpd |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        keys = {"rps": ("req/s", "req_per_s"), "ms": ("mean latency ms", "lat_mean_s"),
                "mibs": ("recv MiB/s", "recv_bytes_per_s")}
        for title, _, _, metrics in scenarios:
            for metric in metrics:
                label, key = keys[metric]
                vals = {}
                cells = []
                for col in COLUMNS:
                    runs = results.get((title, col))
                    if not runs:
                        vals[col] = None
                        cells.append("-")
                        continue
                    samples = [r.get(key) for r in runs if not r["problems"] and r.get(key) is not None]
                    v = median(samples)
                    cell = fmt(v, metric)
                    if metric == "rps" and len(samples) > 1:
                        cell += " (%s-%s)" % (fmt(min(samples), metric), fmt(max(samples), metric))
                    if any(r["problems"] for r in runs):
                        cell += " (!)"
                        v = None  # no ratios from a broken run
                    vals[col] = v
                    cells.append(cell)
                print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    title, label, cells[0], cells[1], cells[2], cells[3],
                    ratio(vals["ours"], vals["C++"]), ratio(vals["ours"], vals["grpcio"]),
                    ratio(vals["ours"], vals["nghttpd"])))
        print()
        print("Ratios > 1 are better for req/s and MiB/s, worse for latency. "
              "(!) = h2load reported failed/errored requests or non-2xx statuses.")
        if "ours" not in servers:
            print("(ours: not run -- pass --swift-bin .build/release/gossipfl-interop)")
        return exit_code
    finally:
        for srv in servers.values():
            if isinstance(srv, ServerProcess):
                srv.close()
            else:
                srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def h2load_version(h2load):
    try:
        out = subprocess.run([h2load, "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.strip().split()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
