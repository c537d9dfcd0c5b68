"""Cold-start smoke test (numbers: `python3 Tests/runtimes/bench_startup.py`), and the
Python client's compile cache."""

import os
import runpy
import shutil
import subprocess

import pytest

from bench_startup import Workspace, summary
from runtime_harness import PYTHONS, node_params, python_params

# Generous: a loaded CI box must not fail this; a client that regressed to importing half
# the standard library (or spawning something) still would on a quiet one.
BOUND_MS = 1500


@pytest.fixture
def workspace():
    ws = Workspace()
    yield ws
    ws.close()


@pytest.mark.parametrize("version", python_params())
def test_python_cold_start(workspace, version):
    times = workspace.python(version, 3)
    print("python%s cold start: %s" % (version, summary(times)))
    assert min(times) < BOUND_MS


@pytest.mark.parametrize("version", node_params())
def test_node_cold_start(workspace, version):
    times = workspace.node(version, 3)
    print("node%s cold start: %s" % (version, summary(times)))
    assert min(times) < BOUND_MS


@pytest.mark.parametrize("version", python_params())
def test_python_compile_cache(workspace, version):
    client = workspace.python_client
    cache = os.path.join(os.path.dirname(client), "__pycache__")
    exe = PYTHONS[version]
    tag = subprocess.run(
        [exe, "-I", "-c", "import sys; print(sys.implementation.cache_tag)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    path = os.path.join(cache, "nimbus_runtime.%s.bin" % tag)

    # --compile fills it ahead of time ...
    subprocess.run([exe, "-I", client, "--compile"], check=True, timeout=60)
    assert os.path.isfile(path)
    # ... a corrupt cache is ignored and replaced ...
    with open(path, "wb") as f:
        f.write(b"garbage")
    workspace.python(version, 1)
    with open(path, "rb") as f:
        assert f.read(7) != b"garbage"
    # ... an edited client never runs stale code from it ...
    with open(client) as f:
        src = f.read()
    assert src.count("-nimbus\" % tuple(sys.version_info[:3])") == 1
    with open(client, "w") as f:
        f.write(src.replace("-nimbus\" % tuple", "-edited\" % tuple"))
    out = subprocess.run(
        [exe, "-I", "-c", "import runpy, sys; g = runpy.run_path(sys.argv[1], run_name='probe'); "
         "print(g['RuntimeAPIClient']('127.0.0.1:1').user_agent)", client],
        capture_output=True, text=True, check=True,
    ).stdout
    assert out.strip().endswith("-edited")
    # ... and an unusable cache location just means compiling every time (a file where the
    # directory should be: unwritable even for root).
    shutil.rmtree(cache)
    with open(cache, "w") as f:
        f.write("not a directory")
    assert workspace.python(version, 1)[0] < BOUND_MS


def test_python_line_numbers_match_the_file(tmp_path):
    """_SOURCE is compiled with the file's own line numbers, so tracebacks read normally."""
    from runtime_harness import SOURCE_PYTHON_CLIENT

    client = tmp_path / "nimbus_runtime.py"
    shutil.copyfile(SOURCE_PYTHON_CLIENT, client)
    g = runpy.run_path(str(client), run_name="probe")
    lines = client.read_text().split("\n")
    for name in ("main", "get_handler", "handle_event_request", "json_loads"):
        code = g[name].__code__
        assert code.co_filename == str(client)
        assert lines[code.co_firstlineno - 1].startswith("def %s(" % name), name
