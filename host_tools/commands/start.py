"""pacer start: start a program on the board, as its button would."""
from host_tools import device

NAME = "start"
HELP = "Start a program on the board (built-in or pushed); the board runs it on its own."
EXAMPLE = "pacer start kegel\n  pacer start calibrate     (rest baseline, then maximum squeezes)"


def add_arguments(p):
    p.add_argument("name", metavar="NAME", help="a program on the board (`pacer programs list "
                                                "--board`)")
    p.add_argument("--port", help="serial port (default: $PACER_PORT, else found by USB "
                                  "vendor ID)")


def run(args):
    with device.Device.connect(args.port) as dev:
        dev.command("start " + args.name)
        st = dev.command("status")
        print("started %s on %s (session %s); `pacer stop` ends it, `pacer log` watches it"
              % (args.name, dev.port, st.get("session")))
    return 0
