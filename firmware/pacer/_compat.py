"""const() on both runtimes: MicroPython's compile-time constant, the identity on CPython.
The one definition in the firmware: every module, engine and shell (through pacer_hw._compat),
imports it from here instead of repeating a try/except (each copy costs flash).

native marks a function every tick runs. Here, and wherever the firmware runs as bytecode (the
WebAssembly VM of the tests, CPython), it is the identity. `pacer flash` and `make image` turn
the mark into @micropython.native for boards whose machine code is tested on the emulated chip
(host_tools/nativecode.py): the function is then compiled to machine code, which skips the
bytecode loop's dispatch and keeps its frame on the C stack."""
try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x


def native(f):
    return f
