# Kept tiny: everything else is compiled to .mpy. Ctrl-C at any time returns to the REPL.
import os
import select
import time

import machine

try:
    import neopixel
except ImportError:
    neopixel = None

from pacer_app import supervisor

supervisor.main(machine, os, time, select, neopixel)
