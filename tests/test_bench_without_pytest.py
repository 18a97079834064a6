"""The benchmarks and the loopback peers they start run where pytest is not installed."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# In a fresh interpreter with pytest made unimportable: what `python -m bench` imports (every
# benchmark module and its helpers), then what a benchmark's Django child imports (every peer).
CODE = """
import importlib, json, pkgutil, sys
sys.modules["pytest"] = None  # `import pytest` now raises ImportError, as without pytest

def import_all(package):
    names = [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    for name in names:
        importlib.import_module(name)
    return names

import bench
modules = import_all(bench)
assert bench.names(), "no benchmark found"
import django
django.setup()
import defensa.testing.peers
modules += import_all(defensa.testing.peers)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("_pytest", "pytest_django"))
print(json.dumps({"modules": modules, "pytest": loaded}))
"""


def test_every_benchmark_and_peer_imports_without_pytest() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "defensa.settings", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CODE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "bench.alert_fanout" in seen["modules"]
    assert "defensa.testing.peers.twilio" in seen["modules"]
    assert "defensa.testing.peers.voice" in seen["modules"]
    assert seen["pytest"] == []
