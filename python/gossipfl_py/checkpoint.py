"""A Python peer's checkpoints: the model and its momentum as safetensors plus a small manifest,
written atomically (a temporary directory renamed into place), the newest two kept. A torn or
corrupt one is passed over with its reason; the layout is the Swift engine's flat vectors.
"""

import json
import os
import shutil
import tempfile
from typing import Callable, NamedTuple, Optional

import numpy as np
from safetensors.numpy import load_file, save_file

MANIFEST = "manifest.json"
TENSORS = "state.safetensors"
KEEP = 2


class Resumed(NamedTuple):
    round: int
    parameters: np.ndarray
    velocity: np.ndarray


class CheckpointError(Exception):
    """No checkpoint in the directory verifies: the peer stops rather than train from a wrong state."""


class CheckpointStore:
    def __init__(self, directory: str, architecture: str, log: Callable[[str], None] = lambda _: None):
        self.directory, self.architecture, self.log = directory, architecture, log
        os.makedirs(directory, exist_ok=True)

    def _folders(self):
        names = [n for n in os.listdir(self.directory) if n.startswith("round-") and n[6:].isdigit()]
        return sorted(names, key=lambda n: int(n[6:]), reverse=True)

    def save(self, run_id: str, state) -> None:
        scratch = tempfile.mkdtemp(prefix=".writing-", dir=self.directory)
        try:
            save_file({"parameters": state.parameters.astype(np.float32), "velocity": state.velocity.astype(np.float32)},
                      os.path.join(scratch, TENSORS))
            with open(os.path.join(scratch, MANIFEST), "w") as f:
                json.dump({"run_id": run_id, "round": int(state.round), "architecture": self.architecture,
                           "values": int(state.parameters.size)}, f)
                f.flush()
                os.fsync(f.fileno())
            final = os.path.join(self.directory, "round-%d" % state.round)
            if os.path.exists(final):
                shutil.rmtree(final)
            os.rename(scratch, final)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        for old in self._folders()[KEEP:]:
            shutil.rmtree(os.path.join(self.directory, old), ignore_errors=True)

    def load_latest(self, run_id: str) -> Optional[Resumed]:
        """The newest checkpoint of `run_id` that verifies; None if there is none at all."""
        reasons, corrupt = [], 0
        for name in self._folders():
            path = os.path.join(self.directory, name)
            try:
                with open(os.path.join(path, MANIFEST)) as f:
                    manifest = json.load(f)
                if manifest.get("run_id") != run_id or manifest.get("architecture") != self.architecture:
                    reasons.append("%s is of run %r (%s)" % (name, manifest.get("run_id"), manifest.get("architecture")))
                    continue
                tensors = load_file(os.path.join(path, TENSORS))
                parameters, velocity = tensors["parameters"], tensors["velocity"]
                if parameters.size != manifest["values"] or velocity.size != parameters.size:
                    raise ValueError("%d values where the manifest says %d" % (parameters.size, manifest["values"]))
                if not (np.isfinite(parameters).all() and np.isfinite(velocity).all()):
                    raise ValueError("values that are not finite")
                for reason in reasons:
                    self.log("checkpoint passed over: " + reason)
                return Resumed(int(manifest["round"]), parameters, velocity)
            except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
                reasons.append("%s: %s" % (name, error))
                corrupt += 1
        if corrupt:
            raise CheckpointError("no checkpoint in %s verifies (%s). Move the folder aside to start this peer afresh"
                                  % (self.directory, "; ".join(reasons)))
        return None
