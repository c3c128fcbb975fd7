"""pacer programs: list the built-in programs (or the board's), show one's expanded timeline,
push a custom program to the board or delete one from it."""
import json

from host_tools import programs
from pacer import builtin

NAME = "programs"
HELP = ("List programs (built-in, or on the board), show one's expanded step timeline, push a "
        "custom program to the board or delete it.")
EXAMPLE = ("pacer programs list\n  pacer programs list --board --json\n"
           "  pacer programs show kegel --json\n  pacer programs show my.json\n"
           "  pacer programs push my.json --port /dev/ttyACM0\n  pacer programs delete mine")
_PORT = "serial port (default: $PACER_PORT, else found by USB vendor ID)"


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="list the built-in programs (--board: the board's)")
    ls.add_argument("--board", action="store_true",
                    help="list the programs on the board: built-ins and pushed ones")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.add_argument("--port", help=_PORT)
    show = sub.add_parser("show", help="show one program's timeline")
    show.add_argument("name", metavar="NAME", help="built-in name or a program .json file")
    show.add_argument("--json", action="store_true",
                      help="print the expanded timeline as JSON (start_ms, duration_ms, breath, "
                           "muscle, role per step)")
    push = sub.add_parser("push", help="check a program .json on the host, then store it on "
                                       "the board")
    push.add_argument("file", metavar="FILE.json")
    push.add_argument("--port", help=_PORT)
    rm = sub.add_parser("delete", help="delete a pushed program from the board")
    rm.add_argument("name", metavar="NAME")
    rm.add_argument("--port", help=_PORT)


def _mmss(ms):
    return "%d:%02d" % (ms // 60000, (ms // 1000) % 60)


def run(args):
    if args.action == "list":
        return _list(args)
    if args.action == "push":
        return _push(args)
    if args.action == "delete":
        return _delete(args)
    tl = programs.load(args.name)
    if args.json:
        print(json.dumps(programs.steps(tl), indent=1))
        return 0
    print("%s: %s, %s, %d steps, %d reps" % (tl.name, tl.title, _mmss(tl.total_ms), tl.n, tl.reps))
    for d in programs.steps(tl):
        print("  %7s  %5.1f s  %-7s %-8s %s" % (_mmss(d["start_ms"]), d["duration_ms"] / 1000,
                                                d["breath"], d["muscle"], d["role"] or ""))
    return 0


def _list(args):
    rows = []
    if args.board:
        from host_tools import device
        with device.Device.connect(args.port) as dev:
            names = dev.command("programs list")["programs"]
            selected = dev.command("status").get("selected")
            for name in names:
                spec = builtin.spec(name) if name in builtin.NAMES else \
                    dev.command("programs show " + name)["program"]
                rows.append((name, programs.build(spec, "the board's " + name),
                             name in builtin.NAMES, name == selected))
    else:
        rows = [(name, builtin.load(name), True, False) for name in builtin.NAMES]
    if args.json:
        print(json.dumps([{"name": n, "title": tl.title, "duration_ms": tl.total_ms,
                           "reps": tl.reps, "builtin": b, "selected": sel}
                          for n, tl, b, sel in rows]))
        return 0
    print("%-14s %6s %5s  %s" % ("name", "length", "reps", "title"))
    for n, tl, b, sel in rows:
        print("%-14s %6s %5d  %s%s%s" % (n, _mmss(tl.total_ms), tl.reps, tl.title,
                                         "" if b else " (pushed)",
                                         " <- the button starts it" if sel else ""))
    return 0


def _delete(args):
    from host_tools import device
    with device.Device.connect(args.port) as dev:
        dev.command("programs delete " + args.name)
        print("deleted %s from %s; the button starts %s"
              % (args.name, dev.port, dev.command("status").get("selected")))
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
