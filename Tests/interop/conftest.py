"""Shared fixtures for the gRPC interop suite.

Environment:
  GOSSIPFL_INTEROP_BIN  the Swift binary (default <repo>/.build/debug/gossipfl-interop).
                        Missing binary = test *failure* with a clear message, never a skip.
  INTEROP_SERVER_CMD    override the server under test (e.g.
                        "python Tests/interop/py_interop_server.py"); server flags are appended.
  INTEROP_CLIENT_CMD    override the client under test (e.g.
                        "python Tests/interop/py_interop_client.py"); client flags are appended.

Run (from the repo root, with the venv from requirements.txt):
  pytest Tests/interop                               # everything (needs the Swift binary)
  pytest Tests/interop/test_interop_py_vs_py.py      # self-check, Python on both ends
  GOSSIPFL_INTEROP_BIN=.build/release/gossipfl-interop pytest Tests/interop -k tls

Every process started here listens on loopback only, every wait is bounded,
and every process is stopped at teardown (SIGTERM, then SIGKILL).
"""

import os
import shlex
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import interop_protos  # noqa: E402
from interop_harness import (  # noqa: E402
    DEFAULT_BIN, LOOPBACK, PY_CLIENT, PY_SERVER, TRANSPORTS,
    make_tls_files, pick_free_port, server_tls_args, start_server,
)


# --------------------------------------------------------------------------
# generated protos


@pytest.fixture(scope="session", autouse=True)
def protos(tmp_path_factory):
    """Compile Protos/ once per session and put the output on sys.path.

    Also exported via GOSSIPFL_INTEROP_PROTO_DIR so that Python subprocesses
    (py_interop_server.py / py_interop_client.py) reuse it.
    """
    out = str(tmp_path_factory.mktemp("protos"))
    interop_protos.compile_protos(out)
    old = os.environ.get(interop_protos.ENV_DIR)
    os.environ[interop_protos.ENV_DIR] = out
    ns = interop_protos.load(out)
    yield ns
    if old is None:
        os.environ.pop(interop_protos.ENV_DIR, None)
    else:
        os.environ[interop_protos.ENV_DIR] = old


@pytest.fixture(scope="session")
def py_client(protos):
    """The py_interop_client module (run_case, make_channel, CASE_NAMES...)."""
    import py_interop_client
    return py_interop_client


# --------------------------------------------------------------------------
# ports, TLS material


@pytest.fixture
def free_port():
    """A currently free loopback TCP port (for programs that can't take --port 0)."""
    return pick_free_port()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """TlsFiles(ca, cert, key): PEM paths, generated for this test session."""
    return make_tls_files(str(tmp_path_factory.mktemp("tls")))


# --------------------------------------------------------------------------
# commands


@pytest.fixture(scope="session")
def swift_bin():
    path = os.path.abspath(os.environ.get("GOSSIPFL_INTEROP_BIN") or DEFAULT_BIN)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            "gossipfl-interop binary not found or not executable at %r.\n"
            "Build it (swift build --product gossipfl-interop) or set GOSSIPFL_INTEROP_BIN.\n"
            "(To self-check the Python suite without it, set INTEROP_SERVER_CMD / "
            "INTEROP_CLIENT_CMD or run test_interop_py_vs_py.py.)" % path, pytrace=False)
    return path


@pytest.fixture(scope="session")
def py_server_cmd():
    return [sys.executable, PY_SERVER]


@pytest.fixture(scope="session")
def py_client_cmd():
    return [sys.executable, PY_CLIENT]


@pytest.fixture(scope="session")
def server_cmd(request):
    """Command prefix of the server under test (the Swift one by default)."""
    env = os.environ.get("INTEROP_SERVER_CMD")
    if env:
        return shlex.split(env)
    return [request.getfixturevalue("swift_bin"), "server"]


@pytest.fixture(scope="session")
def client_cmd(request):
    """Command prefix of the client under test (the Swift one by default)."""
    env = os.environ.get("INTEROP_CLIENT_CMD")
    if env:
        return shlex.split(env)
    return [request.getfixturevalue("swift_bin"), "client"]


@pytest.fixture(scope="module", params=TRANSPORTS)
def transport(request):
    return request.param


@pytest.fixture(scope="module")
def server_under_test(server_cmd, transport, tls_files):
    """The server under test, once per module and transport."""
    cmd = server_cmd + ["--port", "0", "--host", LOOPBACK] + server_tls_args(transport, tls_files)
    with start_server(cmd, name="server under test (%s)" % transport) as srv:
        srv.transport = transport
        yield srv


@pytest.fixture(scope="module")
def py_server(py_server_cmd, transport, tls_files):
    """The grpcio reference server, once per module and transport."""
    cmd = py_server_cmd + ["--port", "0", "--host", LOOPBACK] + server_tls_args(transport, tls_files)
    with start_server(cmd, name="py_interop_server (%s)" % transport) as srv:
        srv.transport = transport
        yield srv
