"""Wire the virtual sensors a profile names into a world (kept for tests/app_rig.py)."""
import wiring


def attach_mpx(w, prof):
    wiring.attach_sensors(w, prof)
