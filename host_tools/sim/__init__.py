"""Physiological sensor simulator for the pacer (runs on CPython and inside MicroPython).

    from host_tools.sim import simulate        # on the host; `from sim import ...` in the VM
    tr = simulate(builtin.load("kegel"), "typical", seed=1)
    tr.write_csv(f); sidecar = tr.truth_json()

The modules use relative imports only, so the same files work as host_tools.sim on the host and
as a top-level `sim` package on the board VM. See docs/simulator.md.
"""
try:
    import pacer  # noqa: F401  (the engine: cue codes and programs)
except ImportError:
    # On the host the engine sits in firmware/ beside host_tools/; on the board VM it is on the
    # path already, so this branch (and os.path) only ever runs on CPython.
    import os
    import sys
    sys.path.append(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "firmware"))

from . import personas, sensors
from .sampler import Sampler
from .trace import HEADER, Trace, simulate, truth_path

__all__ = ["HEADER", "Sampler", "Trace", "personas", "sensors", "simulate", "truth_path"]
