"""Fixtures for the runtime-client tests; the machinery is in runtime_harness.py."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runtime_harness import Env  # noqa: E402


@pytest.fixture
def py_env(request, tmp_path):
    envs = []

    def make(version):
        e = Env(tmp_path / ("py%d" % len(envs)), "python", version)
        envs.append(e)
        return e

    yield make
    for e in envs:
        e.close()


@pytest.fixture
def node_env(request, tmp_path):
    envs = []

    def make(version):
        e = Env(tmp_path / ("node%d" % len(envs)), "node", version)
        envs.append(e)
        return e

    yield make
    for e in envs:
        e.close()
