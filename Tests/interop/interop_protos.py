"""Compile Protos/ with grpc_tools.protoc and import the generated modules.

Shared by conftest.py, py_interop_server.py, py_interop_client.py and
bench/grpc_bench.py.  The generated code lands in a directory that is put at
the front of sys.path:

* if GOSSIPFL_INTEROP_PROTO_DIR is set and already holds generated code it is
  reused (conftest.py sets it so that subprocesses don't recompile);
* otherwise a fresh temporary directory is used and removed at exit.

Generated modules: grpc_testing.{empty,messages,test}_pb2(_grpc) and
grpc_health.v1.health_pb2(_grpc).  The directories have no __init__.py; they
are implicit namespace packages, so they never shadow grpcio's own `grpc`.
"""

import atexit
import importlib
import os
import shutil
import sys
import tempfile
import types

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTO_ROOT = os.path.join(REPO_ROOT, "Protos")
PROTO_FILES = [
    "grpc_testing/empty.proto",
    "grpc_testing/messages.proto",
    "grpc_testing/test.proto",
    "grpc_health/v1/health.proto",
]
ENV_DIR = "GOSSIPFL_INTEROP_PROTO_DIR"

_loaded = None


def compile_protos(out_dir):
    """Run protoc (python_out + grpc_python_out) for all PROTO_FILES into out_dir."""
    from grpc_tools import protoc  # imported lazily: only needed when compiling

    os.makedirs(out_dir, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        "-I", PROTO_ROOT,
        "--python_out", out_dir,
        "--grpc_python_out", out_dir,
    ] + [os.path.join(PROTO_ROOT, f) for f in PROTO_FILES]
    rc = protoc.main(args)
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed (rc=%d) for %s" % (rc, PROTO_ROOT))
    return out_dir


def _already_generated(d):
    return d and os.path.isfile(os.path.join(d, "grpc_testing", "test_pb2_grpc.py")) \
        and os.path.isfile(os.path.join(d, "grpc_health", "v1", "health_pb2_grpc.py"))


def load(out_dir=None):
    """Return a namespace with the generated modules (compiling if needed)."""
    global _loaded
    if _loaded is not None:
        return _loaded
    if out_dir is None:
        env = os.environ.get(ENV_DIR)
        if _already_generated(env):
            out_dir = env
        else:
            out_dir = tempfile.mkdtemp(prefix="gossipfl-protos-")
            atexit.register(shutil.rmtree, out_dir, True)
            compile_protos(out_dir)
    elif not _already_generated(out_dir):
        compile_protos(out_dir)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    importlib.invalidate_caches()
    ns = types.SimpleNamespace(
        out_dir=out_dir,
        empty_pb2=importlib.import_module("grpc_testing.empty_pb2"),
        messages_pb2=importlib.import_module("grpc_testing.messages_pb2"),
        test_pb2=importlib.import_module("grpc_testing.test_pb2"),
        test_pb2_grpc=importlib.import_module("grpc_testing.test_pb2_grpc"),
        health_pb2=importlib.import_module("grpc_health.v1.health_pb2"),
        health_pb2_grpc=importlib.import_module("grpc_health.v1.health_pb2_grpc"),
    )
    _loaded = ns
    return ns
