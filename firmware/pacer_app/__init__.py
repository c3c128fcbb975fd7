"""pacer_app: the board shell around the engine (fixed-rate loop, supervisor, flash storage, USB
serial protocol, button UI). Runs on MicroPython 1.29; storage and protocol also run on CPython
so the host tests exercise them directly."""
