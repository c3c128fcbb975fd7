"""Calibration: rest baseline and maximum voluntary contraction (MVC), and the targets from them.

MVC is kept as the rise above rest (cp), like the clinical "squeeze above rest" figures. Targets are
a fraction of it; an MVC below the floor is treated as the floor so no division or target ever
collapses to zero (anchors section 9, case 13).
"""
from pacer._compat import const

SRC_DEFAULT = const(0)
SRC_STORED = const(1)
SRC_SESSION = const(2)
SOURCE_NAMES = ("default", "stored", "session")
_MVC_FLOOR_CP = const(300)


class Calibration:
    def __init__(self, default_mvc_cp, stored_mvc_cp=0):
        if stored_mvc_cp > 0:
            self.mvc = stored_mvc_cp
            self.source = SRC_STORED
        else:
            self.mvc = default_mvc_cp
            self.source = SRC_DEFAULT
        self.session_peak = 0

    def share(self, pct, floor_cp):
        """pct % of MVC, but at least floor_cp."""
        m = self.mvc  # the MVC in use: never below the floor
        if m < _MVC_FLOOR_CP:
            m = _MVC_FLOOR_CP
        v = m * pct // 100
        return v if v > floor_cp else floor_cp

    def offer(self, rise_cp):
        """A clean peak from an MVC step (rise above rest). The largest of the session wins."""
        if rise_cp > self.session_peak:
            self.session_peak = rise_cp

    def adopt(self):
        """At the end of an MVC step: use the session's best if there is a usable one."""
        if self.session_peak >= _MVC_FLOOR_CP:
            self.mvc = self.session_peak
            self.source = SRC_SESSION
            return True
        return False
