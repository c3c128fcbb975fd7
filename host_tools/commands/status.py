"""pacer status: what the board is, what it holds and how its sensor reads right now."""
import json
import time

from host_tools import device
from host_tools.frames import lost_frames

NAME = "status"
HELP = ("Show the board: profile, firmware, self-test, live pressure and noise, calibration, "
        "free flash, selected program, clock, session running.")
EXAMPLE = "pacer status\n  pacer status --json | jq .pressure_cmH2O"
SAMPLE_S = 1.0


def add_arguments(p):
    p.add_argument("--port", help="serial port (default: $PACER_PORT, else found by USB "
                                  "vendor ID)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def live(dev, seconds=SAMPLE_S):
    """Mean pressure and peak-to-peak noise (cmH2O) over `seconds` of telemetry frames, or
    (None, None, 0) if none arrived. The stream is left as it was found."""
    was = dev.command("status").get("stream")
    dev.command("stream on")
    ps = []
    prev = None
    lost = 0
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            for kind, item in dev.poll(0.05):
                if kind == "frame":
                    if prev is not None:
                        lost += lost_frames(prev, item[0])
                    prev = item[0]
                    ps.append(item[2] / 100)
    finally:
        if not was:
            dev.command("stream off")
    if not ps:
        return None, None, 0
    return round(sum(ps) / len(ps), 2), round(max(ps) - min(ps), 2), len(ps)


def gather(dev) -> dict:
    st = dev.command("status")
    mean, noise, n = live(dev)
    out = {k: st.get(k) for k in ("board", "version", "protocol", "self_test", "state",
                                  "selected", "program", "session", "user", "calibration",
                                  "calibrations",
                                  "free_bytes", "clock", "warnings", "warning")}
    out.update({"port": dev.port, "pressure_cmH2O": mean, "noise_cmH2O": noise, "frames": n})
    return out


def _when(t):
    return "never set" if t is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def _cal(c):
    return "MVC %.1f cmH2O, %s" % (c["mvc_cp"] / 100, _when(c.get("t")))


def _others(s):
    """The other users calibrated on this board (`config set user NAME` switches)."""
    others = {u: c for u, c in (s.get("calibrations") or {}).items() if u != s["user"]}
    return "; ".join("%s: %s" % (u, _cal(c)) for u, c in sorted(others.items())) or "none"


def run(args):
    with device.Device.connect(args.port) as dev:
        s = gather(dev)
    if args.json:
        print(json.dumps(s, sort_keys=True))
        return 0
    cal = s["calibration"]
    free = s["free_bytes"]
    rows = [
        ("board", "%s on %s" % (s["board"], s["port"])),
        ("firmware", "%s (protocol %s)" % (s["version"], s["protocol"])),
        ("self-test", s["self_test"] or "not run since this firmware started"),
        ("state", "%s%s" % (s["state"], " %s (session %s)" % (s["program"], s["session"])
                            if s["state"] in ("running", "paused") else "")),
        ("pressure", "no telemetry" if s["pressure_cmH2O"] is None else
         "%.2f cmH2O, noise %.2f cmH2O peak to peak over %d frames"
         % (s["pressure_cmH2O"], s["noise_cmH2O"], s["frames"])),
        ("user", s["user"]),
        ("calibration", "none yet (`pacer`'s calibrate program, or hold the button 5 s)"
         if not cal else _cal(cal)),
        ("others", _others(s)),
        ("program", "%s (the button starts it)" % s["selected"]),
        ("free flash", "unknown" if free is None or free < 0 else "%.0f kB" % (free / 1024)),
        ("clock", _when(s["clock"])),
    ]
    if s["warnings"]:
        rows.append(("warnings", "%d, latest: %s" % (s["warnings"], s["warning"])))
    for k, v in rows:
        print("%-12s %s" % (k, v))
    return 0
