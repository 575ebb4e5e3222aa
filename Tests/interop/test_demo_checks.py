"""`gossipfl demo --checks` (what `make demo-checks` runs): every interop case over h2c and TLS,
gateway discovery through an outage and a restart, a Raft cluster through a leader's kill -9.
Run several times: the gateway-restart check used to fail about one run in six."""

import subprocess

from gateway_fixtures import gossipfl_bin  # noqa: F401 (fixture)
from raft_fixtures import ClusterCerts


def test_demo_checks_pass_every_time(gossipfl_bin, tmp_path):
    certs = ClusterCerts(gossipfl_bin, str(tmp_path / "certs"))
    cert, key = certs.issue("node", "demo-server")
    for attempt in range(3):
        p = subprocess.run([gossipfl_bin, "demo", "--checks", "--cert", cert, "--key", key, "--ca", certs.ca],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and "FAIL" not in p.stdout, "attempt %d:\n%s\n%s" % (attempt, p.stdout, p.stderr)
        assert p.stdout.count("all checks passed") == 2, p.stdout


def test_demo_without_checks_points_at_make_demo(gossipfl_bin):
    p = subprocess.run([gossipfl_bin, "demo"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "make demo" in p.stderr, p.stderr
