"""`pacer sim`: simulate a person doing a program and write the sensor trace plus its truth."""
import json
import os

from host_tools.errors import CliError
from host_tools.files import write_atomic

NAME = "sim"
HELP = "Simulate a person following a program: write a sensor trace CSV and a truth sidecar."
EXAMPLE = "pacer sim --program kegel --persona non-relaxer --seed 3 --out trace.csv"


def add_arguments(parser):
    from host_tools.sim import sensors
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--program", metavar="NAME", help="a built-in program (see 'pacer programs')")
    src.add_argument("--program-file", metavar="FILE.json", help="a custom program spec in JSON")
    parser.add_argument("--persona", default="typical",
                        help="who is simulated (default typical; --personas lists them)")
    parser.add_argument("--seed", type=int, default=1,
                        help="draws the person's exact values and all noise (default 1)")
    parser.add_argument("--out", metavar="TRACE.csv",
                        help="CSV to write; the truth goes beside it as TRACE.truth.json")
    parser.add_argument("--rate", type=int, default=50, metavar="HZ",
                        help="samples per second (default 50)")
    parser.add_argument("--jitter", type=int, default=0, metavar="MS",
                        help="random +/- error on each sample time (default 0)")
    parser.add_argument("--sensor", choices=sensors.NAMES, default=sensors.DEFAULT,
                        help="sensor model for noise, resolution and range (default %s)"
                             % sensors.DEFAULT)
    parser.add_argument("--no-abdominal", action="store_true",
                        help="leave out the abdominal channel")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND:START_S:DUR_S[:P]",
                        help="inject a fault: disconnect, saturate, stuck or bus (P: share of "
                             "samples a bus fault loses, default 1); may be repeated")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a persona parameter: a number, LO..HI for a band, or "
                             "posture=supine|sitting|standing, drop_mode=let_go|tighten, "
                             "push_mode=let_go|tighten|incomplete; may be repeated")
    parser.add_argument("--personas", action="store_true", help="list the personas and exit")


def _timeline(args):
    import host_tools.sim  # noqa: F401  (puts the engine on the path)
    from pacer import builtin, program
    if args.program_file:
        try:
            with open(args.program_file) as f:
                spec = json.load(f)
        except OSError as e:
            raise CliError("cannot read %s: %s" % (args.program_file, e.strerror or e))
        except ValueError as e:
            raise CliError("%s is not valid JSON: %s" % (args.program_file, e))
        try:
            return program.build(spec)
        except program.ProgramError as e:
            raise CliError("%s: %s" % (args.program_file, "; ".join(e.errors)))
    if not args.program:
        raise CliError("say which program: --program NAME or --program-file FILE.json")
    try:
        return builtin.load(args.program)
    except program.ProgramError as e:
        raise CliError("; ".join(e.errors))


def _number(text, what):
    try:
        return float(text)
    except ValueError:
        raise CliError("%s: %r is not a number" % (what, text))


def _overrides(items):
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError("--set %s: use KEY=VALUE, e.g. --set mvc=30 or --set mvc=20..30" % item)
        if key in ("posture", "drop_mode", "push_mode"):
            out[key] = value
        elif ".." in value:
            lo, _, hi = value.partition("..")
            out[key] = (_number(lo, "--set " + item), _number(hi, "--set " + item))
        else:
            out[key] = _number(value, "--set " + item)
    return out


def _faults(items):
    out = []
    for item in items:
        parts = item.split(":")
        if len(parts) not in (3, 4):
            raise CliError("--fault %s: use KIND:START_S:DUR_S[:P], e.g. disconnect:60:5" % item)
        start = _number(parts[1], "--fault " + item)
        dur = _number(parts[2], "--fault " + item)
        f = {"kind": parts[0], "at_ms": int(round(start * 1000)), "ms": int(round(dur * 1000))}
        if len(parts) == 4:
            f["p"] = _number(parts[3], "--fault " + item)
        out.append(f)
    return out


def _list_personas():
    from host_tools.sim import personas
    width = max([len(n) for n in personas.NAMES])
    for name in personas.NAMES:
        print("%-*s  %s" % (width, name, personas.describe(name)))
    return 0


def run(args):
    from host_tools.sim import personas, simulate, truth_path
    from host_tools.sim.sampler import FaultError
    if args.personas:
        return _list_personas()
    if not args.out:
        raise CliError("say where to write the trace: --out TRACE.csv")
    tl = _timeline(args)
    out = args.out
    if os.path.isdir(out):
        raise CliError("--out %s is a directory; give a file name like %s"
                       % (out, os.path.join(out, "trace.csv")))
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise CliError("cannot write %s: directory %s does not exist" % (out, parent))
    try:
        trace = simulate(tl, args.persona, args.seed, rate_hz=args.rate, jitter_ms=args.jitter,
                         sensor=args.sensor, abdominal=not args.no_abdominal,
                         faults=_faults(args.fault), overrides=_overrides(args.set))
    except (personas.PersonaError, FaultError) as e:
        raise CliError(str(e))
    except ValueError as e:
        raise CliError(str(e))
    sidecar = truth_path(out)
    try:
        write_atomic(out, trace.write_csv)
        write_atomic(sidecar, trace.write_truth)
    except OSError as e:
        raise CliError("cannot write %s: %s" % (e.filename or out, e.strerror or e))
    print("wrote %s and %s: %s" % (out, sidecar, trace.summary()))
    return 0
