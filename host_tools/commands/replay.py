"""pacer replay: run the engine over a recorded or simulated trace."""
import sys

from host_tools import programs, trace
from host_tools import replay as rp
from host_tools.errors import CliError
from host_tools.files import write_atomic

NAME = "replay"
HELP = ("Run the exercise engine over a trace CSV (t_ms, pressure_cmH2O[, abdominal_cmH2O]) and "
        "print its events as JSON lines: phase, rep, alarm, fault, summary.")
EXAMPLE = "pacer replay trace.csv --program kegel --runtime micropython --out events.jsonl"


def add_arguments(p):
    p.add_argument("trace", metavar="TRACE.csv", help="trace with t_ms and pressure_cmH2O columns")
    p.add_argument("--program", required=True, metavar="NAME",
                   help="built-in program name or a program .json file")
    p.add_argument("--runtime", choices=("cpython", "micropython"), default="cpython",
                   help="run the engine here (cpython) or in the real MicroPython VM")
    p.add_argument("--out", metavar="EVENTS.jsonl", help="write events here instead of stdout")
    p.add_argument("--mvc", type=float, default=0.0, metavar="CMH2O",
                   help="a stored MVC (cmH2O above rest) to use when the program has no "
                        "calibration steps")


def run(args):
    spec, _ = programs.load_spec(args.program)
    tl = programs.build(spec, args.program)
    tr = trace.read(args.trace)
    if not 0 <= args.mvc <= 300:       # NaN fails this too
        raise CliError("--mvc must be from 0 to 300 cmH2O, got %g" % args.mvc)
    mvc = int(round(args.mvc * 100))
    if args.runtime == "cpython":
        lines = rp.run_cpython(tl, tr, None, mvc)
    else:
        lines = rp.run_micropython(spec, tr, None, mvc)
    text = "".join(ln + "\n" for ln in lines)
    if args.out:
        try:
            write_atomic(args.out, lambda f: f.write(text))
        except OSError as e:
            raise CliError("cannot write %s: %s" % (args.out, e.strerror)) from None
        reps = sum(1 for ln in lines if '"type": "rep"' in ln)
        print("%d events (%d reps) written to %s" % (len(lines), reps, args.out), file=sys.stderr)
    else:
        sys.stdout.write(text)
    if tr.dropped:
        print("note: %d samples whose time did not move forward were skipped" % tr.dropped,
              file=sys.stderr)
    return 0
