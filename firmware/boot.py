# Runs before main.py on every reset: drive the motor pin low before anything can fail.
try:
    import machine

    from pacer_hw import profiles
    try:
        with open("board.txt") as _f:
            _name = _f.read().strip() or "pico"
    except OSError:
        import sys
        _name = "esp32" if sys.platform == "esp32" else "pico"
    machine.Pin(profiles.get(_name)["motor"], machine.Pin.OUT, value=0)
except Exception as _e:  # noqa: BLE001 - boot must always reach the REPL
    print("boot: outputs-off failed:", _e)
