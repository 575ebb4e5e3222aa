"""Training peers on shaped links: each peer in its own network namespace (netns.ShapedNetwork),
for test_training_netns.py and bench/network_bench.py."""

import time

from netns import ShapedNetwork
from training_fixtures import TrainingCluster, TrainingPeer

PORT = 7000


class NamespacePeer(TrainingPeer):
    """A training peer inside host `index` of `net`, listening on that host's address."""

    def __init__(self, net, index, *args, **kw):
        self.net, self.index = net, index
        super().__init__(*args, **kw)

    @property
    def address(self):
        return "%s:%d" % (self.net.address(self.index), self.port)

    def command(self, mode_args=None):
        return self.net.command(self.index, super().command(mode_args))


def clustered_rates(fast, slow, site_size=2):
    """Mbit/s: `fast` within a site of `site_size` hosts, `slow` between sites."""
    return lambda i, j: fast if i // site_size == j // site_size else slow


def start_cluster(binary, root, net, train_args):
    """Peer n0 bootstraps in host 0, the others join it; all train with `train_args`."""
    cluster = TrainingCluster(binary, root, train_args)
    try:
        for i in range(net.hosts):
            mode = ["--bootstrap"] if i == 0 else ["--join", cluster.peers["n0"].address]
            peer = NamespacePeer(net, i, binary, "n%d" % i, PORT, "%s/n%d" % (root, i), mode, cluster.train_args,
                                 tick_ms=cluster.tick_ms)
            cluster.peers[peer.node_id] = peer
    except Exception:
        cluster.close()
        raise
    return cluster


def mean_round_seconds(cluster, warmup_s, measure_s, timeout=120):
    """Seconds per round over `measure_s`, once every peer trains and `warmup_s` has passed
    (probes measured the links and the leader committed the matrix)."""
    cluster.wait(lambda s: all(v and v.training and v.round > 0 for v in s.values()), timeout, "all peers training")
    time.sleep(warmup_s)
    before, t0 = {k: v.round for k, v in cluster.statuses().items() if v}, time.monotonic()
    time.sleep(measure_s)
    after, t1 = {k: v.round for k, v in cluster.statuses().items() if v}, time.monotonic()
    advanced = min(after[k] - before[k] for k in before)
    assert advanced > 0, (before, after)
    return (t1 - t0) / advanced, advanced


__all__ = ["ShapedNetwork", "NamespacePeer", "clustered_rates", "start_cluster", "mean_round_seconds"]
