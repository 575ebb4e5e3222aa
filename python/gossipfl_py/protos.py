"""The protoc-generated modules for the repository's Protos/ (gossip.v1, raft.v1, gateway.v1).

The package commits no generated code. `load(name)` imports the modules from
`gossipfl_py/_generated/` when a build step has put protoc's output tree there
(gossip/v1/gossip_pb2.py, ...); otherwise it runs grpc_tools.protoc once on the repository's
Protos/ directory (../../Protos from this file, or env GOSSIPFL_PROTOS) into a cache directory
keyed by the protos' content hash (under env GOSSIPFL_PROTO_CACHE, or a private directory in the
system temp dir), and imports from there. Later calls and later processes reuse that output.

The generated code imports its siblings absolutely (`from gossip.v1 import gossip_pb2`), so the
directory holding the tree goes on sys.path, as in Tests/interop/raft_fixtures.py
`compile_protos`. No __init__.py files are written: `gossip`, `raft` and `gateway` stay implicit
namespace packages and do not shadow a copy another harness generated elsewhere.
"""

import hashlib
import importlib
import importlib.util
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
from typing import Dict, List, NamedTuple

# The protos this package knows by short name, relative to the Protos/ root.
PROTO_FILES = {
    "gossip": "gossip/v1/gossip.proto",
    "raft": "raft/v1/raft.proto",
    "gateway": "gateway/v1/gateway.proto",
}

ENV_PROTOS = "GOSSIPFL_PROTOS"
ENV_CACHE = "GOSSIPFL_PROTO_CACHE"

_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.MULTILINE)

_lock = threading.Lock()
_loaded: Dict[str, "ProtoModules"] = {}


class ProtoModules(NamedTuple):
    """A proto's messages (`pb2`) and its gRPC stubs and servicers (`pb2_grpc`)."""
    pb2: object
    pb2_grpc: object


def load(name: str) -> ProtoModules:
    """The generated modules of `name`: "gossip", "raft" or "gateway" (or "gossip.v1",
    "gossip/v1/gossip.proto", ...). Generates them on first use if no build step did."""
    relative = _relative_path(name)
    with _lock:
        if relative not in _loaded:
            root = _generated_root() or _generate()
            if root not in sys.path:
                sys.path.insert(0, root)
            importlib.invalidate_caches()
            module = relative[:-len(".proto")].replace("/", ".")
            _loaded[relative] = ProtoModules(importlib.import_module(module + "_pb2"),
                                             importlib.import_module(module + "_pb2_grpc"))
        return _loaded[relative]


def gossip() -> ProtoModules:
    """gossip.v1: TrainingCommand, FollowTraining's CommittedTraining, the Gossip service."""
    return load("gossip")


def raft() -> ProtoModules:
    """raft.v1: the consensus RPCs and cluster membership."""
    return load("raft")


def gateway() -> ProtoModules:
    """gateway.v1: the discovery service."""
    return load("gateway")


def protos_root() -> str:
    """The Protos/ directory: env GOSSIPFL_PROTOS, else the repository's, two levels up."""
    root = os.environ.get(ENV_PROTOS) or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Protos")
    root = os.path.abspath(root)
    if not os.path.isfile(os.path.join(root, PROTO_FILES["gossip"])):
        raise FileNotFoundError(
            f"no {PROTO_FILES['gossip']} under {root}: set {ENV_PROTOS} to the repository's Protos/ "
            "directory, or install a build that ships gossipfl_py/_generated/")
    return root


def _relative_path(name: str) -> str:
    short = name.split(".")[0].split("/")[0]
    if short not in PROTO_FILES:
        raise ValueError(f"unknown proto {name!r}: use one of {sorted(PROTO_FILES)}")
    return PROTO_FILES[short]


def _generated_root():
    """gossipfl_py/_generated/ if a build step filled it with every known proto's modules."""
    spec = importlib.util.find_spec(__package__ + "._generated")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        if all(os.path.isfile(os.path.join(location, p[:-len(".proto")] + "_pb2_grpc.py"))
               for p in PROTO_FILES.values()):
            return location
    return None


def _closure(root: str) -> List[str]:
    """The known protos and every repository proto they import, sorted; imports from outside
    Protos/ (google/protobuf/...) come with the protobuf runtime and are left out."""
    pending, seen = list(PROTO_FILES.values()), set()
    while pending:
        relative = pending.pop()
        if relative in seen:
            continue
        seen.add(relative)
        with open(os.path.join(root, relative), encoding="utf-8") as f:
            text = f.read()
        pending.extend(i for i in _IMPORT.findall(text) if os.path.isfile(os.path.join(root, i)))
    return sorted(seen)


def _content_key(root: str, files: List[str]) -> str:
    digest = hashlib.sha256()
    for relative in files:
        with open(os.path.join(root, relative), "rb") as f:
            data = f.read()
        digest.update(relative.encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()[:20]


def _cache_base() -> str:
    explicit = os.environ.get(ENV_CACHE)
    if explicit:
        os.makedirs(explicit, exist_ok=True)
        return explicit
    # The shared temp dir: a directory of our own, since whatever sits there gets imported.
    base = os.path.join(tempfile.gettempdir(), f"gossipfl-protos-{os.getuid()}")
    os.makedirs(base, mode=0o700, exist_ok=True)
    info = os.lstat(base)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return tempfile.mkdtemp(prefix="gossipfl-protos-")
    return base


def generate_into(directory: str) -> None:
    """Runs grpc_tools.protoc on every known proto (and what they import) into `directory`:
    the build step (python/setup.py) fills gossipfl_py/_generated/ this way."""
    from grpc_tools import protoc  # only needed when generating

    root = protos_root()
    files = _closure(root)
    includes = ["-I", root]
    # The well-known types, in case a proto imports google/protobuf/*.proto.
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    if os.path.isdir(well_known):
        includes += ["-I", well_known]
    os.makedirs(directory, exist_ok=True)
    rc = protoc.main(["grpc_tools.protoc", *includes, "--python_out", directory, "--grpc_python_out", directory,
                      *(os.path.join(root, f) for f in files)])
    if rc != 0:
        raise RuntimeError(f"grpc_tools.protoc failed (rc={rc}) for {files} under {root}")


def _generate() -> str:
    """protoc's output for every known proto, generated once per content hash."""
    root = protos_root()
    files = _closure(root)
    base = _cache_base()
    final = os.path.join(base, _content_key(root, files))
    if os.path.isdir(final):
        return final
    # Generated beside the final directory and renamed into place: a reader never sees half
    # an output, and of two processes generating at once the first rename wins.
    scratch = tempfile.mkdtemp(prefix=".generating-", dir=base)
    try:
        generate_into(scratch)
        try:
            os.rename(scratch, final)
        except OSError:
            if not os.path.isdir(final):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final
