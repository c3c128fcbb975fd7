"""Wire the virtual parts a board profile names into a World: pressure sensors on their pins or
buses, the OLED, the supply-sense divider. One place, used by the virtual board and the tests.
Runs on CPython and inside MicroPython (vdev modules are imported top-level there)."""


def attach_sensor(w, ch, spec):
    """The virtual device for one sensor spec of a profile, on pressure channel ch."""
    t = spec["type"]
    if t == "mpx5010":
        import mpx5010
        w.attach_adc(spec["pin"], mpx5010.MPX5010(w, spec["pin"], ch,
                                                  vs_mv=spec.get("vs_mv", 5000),
                                                  div=tuple(spec["div"])))
    elif t == "hx710b":
        import hx710b
        hx710b.HX710B(w, spec["sck"], spec["dout"], ch,
                      counts_per_cmh2o=spec.get("counts_per_cmh2o", 79000))
    elif t == "mprls":
        import mprls
        w.bus(spec["scl"], spec["sda"]).attach(spec["addr"], mprls.MPRLS(w, ch))
    elif t == "bmp280":
        import bmp280
        w.bus(spec["scl"], spec["sda"]).attach(spec["addr"], bmp280.BMP280(w, ch))
    else:
        raise ValueError("unknown sensor type %r" % t)


def attach_sensors(w, prof):
    for ch, key in ((0, "pressure"), (1, "abdominal")):
        if prof.get(key):
            attach_sensor(w, ch, prof[key])


def attach_oled(w, prof):
    oled = prof.get("oled")
    if oled:
        import ssd1306
        w.bus(oled["scl"], oled["sda"]).attach(oled["addr"], ssd1306.SSD1306(w))


def attach_vsense(w, prof):
    vs = prof.get("vsense")
    if vs:
        import analog
        analog.VSense(w, vs["pin"], vs.get("mult", 3))
