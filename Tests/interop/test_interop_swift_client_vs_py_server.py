"""The client under test vs the Python grpcio server (py_interop_server.py).

The client under test is `$GOSSIPFL_INTEROP_BIN client` (default
.build/debug/gossipfl-interop), or INTEROP_CLIENT_CMD if set.  One Python
server per transport (h2c, tls); one client process per case, bounded.
"""

import pytest

from interop_cases import CASE_NAMES
from interop_harness import CLIENT_TIMEOUT, client_tls_args, run_client


def _client_command(client_cmd, srv, case, tls_files):
    return client_cmd + [
        "--server_host", srv.host, "--server_port", str(srv.port), "--test_case", case,
    ] + client_tls_args(srv.transport, tls_files)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_client_under_test_vs_py_server(case, client_cmd, py_server, tls_files):
    cmd = _client_command(client_cmd, py_server, case, tls_files)
    res = run_client(cmd, timeout=CLIENT_TIMEOUT)
    assert res.returncode == 0, (
        "client failed: exit %s\n  command: %s\n  stdout:\n%s\n  stderr:\n%s\n  server stderr:\n%s"
        % (res.returncode, " ".join(cmd), res.stdout, res.stderr, py_server.stderr_text()))
    py_server.assert_alive("after %s" % case)


def test_unknown_case_fails(client_cmd, py_server, tls_files):
    """A bogus --test_case must not report success."""
    cmd = _client_command(client_cmd, py_server, "no_such_case", tls_files)
    res = run_client(cmd, timeout=CLIENT_TIMEOUT)
    assert res.returncode not in (0, None), "exit %s for an unknown case" % res.returncode
