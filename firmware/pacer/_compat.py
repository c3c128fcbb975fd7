"""const() on both runtimes: MicroPython's compile-time constant, the identity on CPython.
The one definition in the firmware: every module, engine and shell (through pacer_hw._compat),
imports it from here instead of repeating a try/except (each copy costs flash)."""
try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x
