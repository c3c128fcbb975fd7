"""Wire MPX5010 virtual sensors to a world as a profile says."""
from mpx5010 import MPX5010 as VMPX


def attach_mpx(w, prof):
    for ch, key in ((0, "pressure"), (1, "abdominal")):
        spec = prof.get(key)
        if spec and spec["type"] == "mpx5010":
            w.attach_adc(spec["pin"], VMPX(w, spec["pin"], ch, vs_mv=spec.get("vs_mv", 5000),
                                           div=tuple(spec["div"])))
