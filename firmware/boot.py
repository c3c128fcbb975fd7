# Every reset, before main.py: the motor pin low before anything can fail.
try:
    from pacer_app.supervisor import motor_off

    motor_off()
except Exception as _e:  # noqa: BLE001 - boot must always reach the REPL
    print("boot: outputs-off failed:", _e)
