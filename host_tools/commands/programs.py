"""pacer programs: list the built-in programs or show one's expanded timeline."""
import json

from host_tools import programs
from pacer import builtin

NAME = "programs"
HELP = "List built-in programs, or show a program's expanded step timeline."
EXAMPLE = "pacer programs list\n  pacer programs show kegel --json\n  pacer programs show my.json"


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="list the built-in programs")
    show = sub.add_parser("show", help="show one program's timeline")
    show.add_argument("name", metavar="NAME", help="built-in name or a program .json file")
    show.add_argument("--json", action="store_true",
                      help="print the expanded timeline as JSON (start_ms, duration_ms, breath, "
                           "muscle, role per step)")


def _mmss(ms):
    return "%d:%02d" % (ms // 60000, (ms // 1000) % 60)


def run(args):
    if args.action == "list":
        print("%-14s %6s %5s  %s" % ("name", "length", "reps", "title"))
        for name in builtin.NAMES:
            tl = builtin.load(name)
            print("%-14s %6s %5d  %s" % (name, _mmss(tl.total_ms), tl.reps, tl.title))
        return 0
    tl = programs.load(args.name)
    if args.json:
        print(json.dumps(json.loads(tl.steps_json()), indent=1))
        return 0
    print("%s: %s, %s, %d steps, %d reps" % (tl.name, tl.title, _mmss(tl.total_ms), tl.n, tl.reps))
    for i in range(tl.n):
        d = tl.step_dict(i)
        print("  %7s  %5.1f s  %-7s %-8s %s" % (_mmss(d["start_ms"]), d["duration_ms"] / 1000,
                                                d["breath"], d["muscle"], d["role"] or ""))
    return 0
