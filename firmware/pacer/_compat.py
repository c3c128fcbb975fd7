"""const() on both runtimes: MicroPython's compile-time constant, the identity on CPython.
One copy here instead of a try/except in every module (each copy costs flash)."""
try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x
