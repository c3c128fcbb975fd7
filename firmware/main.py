# Tiny on purpose: the rest is .mpy. Ctrl-C at any time returns to the REPL.
import os

try:
    os.stat("build.partial")  # `pacer flash` writes it first and removes it last
    _whole = False
except OSError:
    _whole = True
if _whole:
    from pacer_app import supervisor

    supervisor.start()
else:
    print("pacer: `pacer flash` was interrupted (build.partial): run it again to finish")
