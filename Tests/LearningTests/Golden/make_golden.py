#!/usr/bin/env python3
"""Writes reference.safetensors with the official `safetensors` package (numpy API), the
file the Swift tests read back: two Float32 tensors named like a state_dict, metadata,
and values that test the byte order (negative zero, subnormal, large, fractional).

Usage: make_golden.py   (needs `pip install numpy safetensors`)
"""
import pathlib

import numpy as np
from safetensors.numpy import save_file

HERE = pathlib.Path(__file__).resolve().parent
tensors = {
    "fc.weight": np.array([[0.5, -1.25, 3.0], [-0.0, 1e-40, 65504.0]], dtype=np.float32),
    "fc.bias": np.array([0.1, -7.0], dtype=np.float32),
}
save_file(tensors, str(HERE / "reference.safetensors"), metadata={"format": "pt", "round": "12"})
print("wrote", HERE / "reference.safetensors")
