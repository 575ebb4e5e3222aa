"""Peers as separate hosts: one Linux network namespace per peer, veth pairs to a bridge, and `tc`
shaping every pair's link to its own rate and delay (htb class per destination, netem below it).

    with ShapedNetwork(rates=lambda i, j: 100 if i // 2 == j // 2 else 5, hosts=4, delay_ms=2) as net:
        net.command(0, [...])      # argv that runs inside host 0's namespace
        net.address(0)             # 10.77.<k>.1

Delay needs the kernel's sch_netem; without it links are shaped in rate only (`delay_supported`).
Needs root (or CAP_NET_ADMIN) and iproute2; `unavailable()` says why not, for a clear pytest skip.
The host side of the bridge has an address too, so this process reaches every peer directly.
Everything created is removed by close(), also after a failed setup.
"""

import os
import shutil
import subprocess


def _run(*argv, check=True):
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=20)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    return p


def unavailable():
    """Why namespaces cannot be used here, or None."""
    if shutil.which("ip") is None or shutil.which("tc") is None:
        return "iproute2 (ip, tc) is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root (run the tests as root to include them)"
    name = "gflprobe%d" % os.getpid()
    p = _run("ip", "netns", "add", name, check=False)
    if p.returncode != 0:
        return "this machine does not allow network namespaces: %s" % p.stderr.strip()
    _run("ip", "netns", "del", name, check=False)
    return None


class ShapedNetwork:
    """`hosts` namespaces on one bridge; traffic from i to j leaves i at rates(i, j) Mbit/s after
    delay_ms of delay (both directions are shaped, each by its sender)."""

    def __init__(self, rates, hosts, delay_ms=1.0):
        self.hosts = hosts
        tag = "%x" % (os.getpid() & 0xFFFF)
        self.subnet = "10.77.%d" % (os.getpid() % 250)
        self.bridge = "gflbr" + tag
        self.namespaces = ["gfl%s-%d" % (tag, i) for i in range(hosts)]
        self.created_links = []
        self.created_namespaces = []
        self.delay_supported = True
        try:
            self._build(rates, delay_ms)
        except Exception:
            self.close()
            raise

    def address(self, i):
        return "%s.%d" % (self.subnet, i + 1)

    def command(self, i, argv):
        return ["ip", "netns", "exec", self.namespaces[i]] + list(argv)

    def tx_bytes(self, i):
        """Bytes host i has sent on its link (all traffic: IP, TCP, TLS, HTTP/2)."""
        p = _run("ip", "netns", "exec", self.namespaces[i], "cat", "/sys/class/net/eth0/statistics/tx_bytes")
        return int(p.stdout.strip())

    def _build(self, rates, delay_ms):
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        self.created_links.append(self.bridge)
        _run("ip", "addr", "add", "%s.254/24" % self.subnet, "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")
        for i, ns in enumerate(self.namespaces):
            _run("ip", "netns", "add", ns)
            self.created_namespaces.append(ns)
            outside = "%sv%d" % (self.bridge[2:], i)
            _run("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self.created_links.append(outside)
            _run("ip", "link", "set", outside, "master", self.bridge)
            _run("ip", "link", "set", outside, "up")
            inside = ["ip", "netns", "exec", ns]
            _run(*inside, "ip", "addr", "add", "%s/24" % self.address(i), "dev", "eth0")
            _run(*inside, "ip", "link", "set", "eth0", "up")
            _run(*inside, "ip", "link", "set", "lo", "up")
            # One htb class per destination peer, netem delay under it; anything else (this
            # process's status calls) goes unshaped.
            tc = inside + ["tc"]
            _run(*tc, "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default", "99")
            _run(*tc, "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:99", "htb", "rate", "10gbit")
            for j in range(self.hosts):
                if j == i:
                    continue
                rate = rates(i, j)
                cls = "1:%d" % (10 + j)
                _run(*tc, "class", "add", "dev", "eth0", "parent", "1:", "classid", cls, "htb", "rate", "%gmbit" % rate,
                     "ceil", "%gmbit" % rate)
                if delay_ms > 0 and self.delay_supported:
                    # Kernels without sch_netem (some VMs) shape rates only: said in `delay_supported`.
                    p = _run(*tc, "qdisc", "add", "dev", "eth0", "parent", cls, "handle", "%d:" % (10 + j), "netem", "delay",
                             "%gms" % delay_ms, "limit", "10000", check=False)
                    if p.returncode != 0:
                        if "unknown" not in p.stderr:
                            raise RuntimeError("tc netem failed: %s" % p.stderr.strip())
                        self.delay_supported = False
                _run(*tc, "filter", "add", "dev", "eth0", "protocol", "ip", "parent", "1:", "prio", "1", "u32", "match", "ip",
                     "dst", "%s/32" % self.address(j), "flowid", cls)

    def close(self):
        for ns in self.created_namespaces:
            _run("ip", "netns", "del", ns, check=False)
        for link in reversed(self.created_links):
            _run("ip", "link", "del", link, check=False)
        self.created_namespaces, self.created_links = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
