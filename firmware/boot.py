# Runs before main.py on every reset: drive the motor pin low before anything can fail.
try:
    import os

    import machine

    from pacer_app.supervisor import _board_name
    from pacer_hw import profiles
    machine.Pin(profiles.get(_board_name(os))["motor"], machine.Pin.OUT, value=0)
except Exception as _e:  # noqa: BLE001 - boot must always reach the REPL
    print("boot: outputs-off failed:", _e)
