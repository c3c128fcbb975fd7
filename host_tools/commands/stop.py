"""pacer stop: stop the session running on the board (its log is kept)."""
from host_tools import device

NAME = "stop"
HELP = "Stop the session running on the board; its log is kept, its summary marked not completed."
EXAMPLE = "pacer stop"


def add_arguments(p):
    p.add_argument("--port", help="serial port (default: $PACER_PORT, else found by USB "
                                  "vendor ID)")


def run(args):
    with device.Device.connect(args.port) as dev:
        st = dev.command("status")
        if st.get("state") not in ("running", "paused"):
            print("no session is running on %s (state: %s)" % (dev.port, st.get("state")))
            return 0
        dev.command("stop")
        print("stopped %s (session %s) on %s" % (st.get("program"), st.get("session"),
                                                   dev.port))
    return 0
