"""Virtual devices and a virtual `machine` module (see world.py for the World API).

The modules import each other by top-level name (`import machine`, `from bus import VBus`),
because inside the MicroPython VM this directory itself is put on sys.path. On CPython call
install() once; after that `import machine, world, neopixel` give the virtual ones (and
`framebuf` a CPython stand-in).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def install():
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
