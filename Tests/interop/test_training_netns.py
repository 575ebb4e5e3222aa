"""Peers as separate hosts on shaped links (one network namespace each, tc per pair): two sites of
two peers, 100 Mbit/s within a site and 5 Mbit/s between them, 2 ms each way. SAPS, planning with
the bandwidth its probes measured, must keep to the fast links: its mean round time beats random
matching's, measured in the same run. Skipped where namespaces are not allowed."""

import os

import pytest

from gateway_fixtures import gossipfl_bin  # noqa: F401 (fixture)
from netns import ShapedNetwork, unavailable
from netns_training import clustered_rates, mean_round_seconds, start_cluster
from training_fixtures import FASHION_MNIST

REASON = unavailable()
pytestmark = [pytest.mark.skipif(REASON is not None, reason=REASON or ""),
              pytest.mark.skipif(not os.path.isdir(FASHION_MNIST), reason="needs Debian's dataset-fashion-mnist")]


def run(binary, root, algorithm):
    with ShapedNetwork(clustered_rates(fast=100, slow=5), hosts=4, delay_ms=2) as net:
        args = ["--algorithm", algorithm, "--slots", "4", "--min-peers", "4", "--epochs", "0", "--eval-samples", "500",
                "--probe-interval-ms", "300", "--checkpoint-every", "1000"]
        cluster = start_cluster(binary, root, net, args)
        try:
            return mean_round_seconds(cluster, warmup_s=6, measure_s=8)
        finally:
            cluster.close()


def test_saps_keeps_to_the_fast_links(gossipfl_bin, tmp_path):
    saps, saps_rounds = run(gossipfl_bin, str(tmp_path / "saps"), "saps")
    random, random_rounds = run(gossipfl_bin, str(tmp_path / "random"), "random")
    print("mean round: saps %.1f ms (%d rounds), random %.1f ms (%d rounds)" % (saps * 1e3, saps_rounds, random * 1e3,
                                                                                 random_rounds))
    assert saps < random, (saps, random)
