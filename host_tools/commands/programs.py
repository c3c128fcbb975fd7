"""pacer programs: list the built-in programs or show one's expanded timeline."""
import json

from host_tools import programs
from pacer import builtin

NAME = "programs"
HELP = "List built-in programs, or show a program's expanded step timeline."
EXAMPLE = ("pacer programs list\n  pacer programs show kegel --json\n"
           "  pacer programs show my.json\n  pacer programs push my.json --port /dev/ttyACM0")


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="list the built-in programs")
    show = sub.add_parser("show", help="show one program's timeline")
    show.add_argument("name", metavar="NAME", help="built-in name or a program .json file")
    show.add_argument("--json", action="store_true",
                      help="print the expanded timeline as JSON (start_ms, duration_ms, breath, "
                           "muscle, role per step)")
    push = sub.add_parser("push", help="check a program .json on the host, then store it on "
                                       "the board")
    push.add_argument("file", metavar="FILE.json")
    push.add_argument("--port", help="serial port (default: found by USB vendor ID)")


def _mmss(ms):
    return "%d:%02d" % (ms // 60000, (ms // 1000) % 60)


def run(args):
    if args.action == "list":
        print("%-14s %6s %5s  %s" % ("name", "length", "reps", "title"))
        for name in builtin.NAMES:
            tl = builtin.load(name)
            print("%-14s %6s %5d  %s" % (name, _mmss(tl.total_ms), tl.reps, tl.title))
        return 0
    if args.action == "push":
        return _push(args)
    tl = programs.load(args.name)
    if args.json:
        print(json.dumps(programs.steps(tl), indent=1))
        return 0
    print("%s: %s, %s, %d steps, %d reps" % (tl.name, tl.title, _mmss(tl.total_ms), tl.n, tl.reps))
    for d in programs.steps(tl):
        print("  %7s  %5.1f s  %-7s %-8s %s" % (_mmss(d["start_ms"]), d["duration_ms"] / 1000,
                                                d["breath"], d["muscle"], d["role"] or ""))
    return 0


def _push(args):
    from host_tools import device
    from host_tools.errors import CliError
    if not args.file.endswith(".json"):
        raise CliError("push takes a program .json file, got %r" % args.file)
    spec, _ = programs.load_spec(args.file)
    tl, line = programs.push_line(spec, args.file)
    with device.Device.connect(args.port) as dev:
        dev.command(line)
        print("pushed %s to %s: %d steps, %d reps, %s; start it with the button or `start %s`"
              % (tl.name, dev.port, tl.n, tl.reps, _mmss(tl.total_ms), tl.name))
    return 0
