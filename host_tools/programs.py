"""Finding programs for the host tools: a built-in name or a custom JSON file, validated with the
same rules as on the device (pacer.program)."""
import json
import os

from host_tools.errors import CliError
from pacer import builtin, program


def load_spec(name_or_path):
    """Returns (spec, builtin_name or None)."""
    if name_or_path in builtin.NAMES:
        return builtin.spec(name_or_path), name_or_path
    if name_or_path.endswith(".json") or os.path.sep in name_or_path:
        try:
            with open(name_or_path) as f:
                spec = json.load(f)
        except FileNotFoundError:
            raise CliError("program file %s not found" % name_or_path) from None
        except (OSError, UnicodeDecodeError) as e:
            raise CliError("cannot read program file %s: %s" % (name_or_path, e)) from None
        except json.JSONDecodeError as e:
            raise CliError("program file %s is not valid JSON: %s (line %d, column %d)"
                           % (name_or_path, e.msg, e.lineno, e.colno)) from None
        return spec, None
    raise CliError("unknown program %r; built-ins: %s (or give a .json file)"
                   % (name_or_path, ", ".join(builtin.NAMES)))


def build(spec, source):
    try:
        return program.build(spec)
    except program.ProgramError as e:
        raise CliError("invalid program %s: %s" % (source, "; ".join(e.errors))) from None


def load(name_or_path):
    spec, _ = load_spec(name_or_path)
    return build(spec, name_or_path)


def steps(tl):
    """The expanded timeline as dicts (start_ms, duration_ms, breath, muscle, role or None)."""
    out = []
    for i in range(tl.n):
        role = program.ROLES[tl.role[i]]
        out.append({"start_ms": tl.start_ms[i], "duration_ms": tl.dur_ms[i],
                    "breath": program.BREATHS[tl.breath[i]],
                    "muscle": program.MUSCLES[tl.muscle[i]], "role": role or None})
    return out


MAX_LINE = 512   # docs/protocol.md section 1: one command line


def push_line(spec, source):
    """(timeline, the `programs push` command line) for a custom program, checked on the host
    with the board's own validator first; CliError with every problem otherwise."""
    if not isinstance(spec, dict):
        raise CliError("invalid program %s: a program is a JSON object with name and blocks"
                       % source)
    tl = build(spec, source)
    if spec.get("name") in builtin.NAMES:
        raise CliError("%r is a built-in program's name; rename yours" % spec.get("name"))
    line = "programs push " + json.dumps(spec, separators=(",", ":"))
    if len(line.encode()) > MAX_LINE:
        raise CliError("%s is %d bytes as one line; the board takes at most %d: shorten it (use "
                       "blocks with reps instead of repeated steps)"
                       % (source, len(line.encode()), MAX_LINE))
    return tl, line
