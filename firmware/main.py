# Kept tiny: everything else is compiled to .mpy. Ctrl-C at any time returns to the REPL.
import os
import select
import time

import machine

try:
    import neopixel
except ImportError:
    neopixel = None

try:
    os.stat("build.partial")  # `pacer flash` writes it first and removes it last
    _whole = False
except OSError:
    _whole = True
if _whole:
    from pacer_app import supervisor

    supervisor.main(machine, os, time, select, neopixel)
else:
    print("pacer: a `pacer flash` was interrupted (build.partial); the app is not started. Run "
          "`pacer flash` again to finish it.")
