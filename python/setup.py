"""Builds gossipfl_py with its gRPC stubs generated from the repository's Protos/ (never committed):
`pip install ./python` puts them in gossipfl_py/_generated/. Set GOSSIPFL_PROTOS to build from
elsewhere than the repository."""

import importlib.util
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithStubs(build_py):
    def run(self):
        super().run()
        # protos.py alone (stdlib only), without importing the package and its dependencies.
        spec = importlib.util.spec_from_file_location("gossipfl_protos", os.path.join(HERE, "gossipfl_py", "protos.py"))
        protos = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(protos)
        protos.generate_into(os.path.join(self.build_lib, "gossipfl_py", "_generated"))


setup(cmdclass={"build_py": BuildWithStubs})
