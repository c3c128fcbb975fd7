"""pacer_hw: drivers and outputs for the pacer board (MicroPython; also imports on CPython).

Rules every module here follows:
- Hardware objects (I2C, Pin, PWM, ADC, NeoPixel) are created by the board shell and passed in.
- Time is passed in as t_ms (time.ticks_ms() on the board); intervals use ticks_diff.
- The steady-state read/update paths use ints and preallocated buffers only, so they do not
  allocate (floats and ints >= 2**30 are heap objects on rp2/esp32).
- Pressure drivers share one contract (pacer_hw.sensor.PressureSensor): update(t_ms) -> fault
  code, then .cp (gauge, hundredths of cmH2O), .fresh, .fault, .raw; zero() / ref.
"""
