"""Events as JSON lines, written by hand with a fixed key order and fixed decimals so that CPython
and MicroPython produce byte-identical text (float repr and dict order differ between them)."""
from pacer import events as ev
from pacer.drop import PATTERN_NAMES
from pacer.engine import STATE_NAMES
from pacer.mvc import SOURCE_NAMES
from pacer.program import BREATHS, MUSCLES, ROLES
from pacer.summary import SUMMARY_FIELDS
from pacer.verdict import NAMES as GRADE_NAMES


def cm(cp):
    """Hundredths of cmH2O as a JSON number with two decimals; NONE as null."""
    if cp == ev.NONE:
        return "null"
    sign = "-" if cp < 0 else ""
    cp = -cp if cp < 0 else cp
    return "%s%d.%02d" % (sign, cp // 100, cp % 100)


def _opt(v):
    return "null" if v == ev.NONE or v < 0 else str(v)


def _flags(bits):
    out = []
    for i in range(len(ev.FLAG_NAMES)):
        if bits & (1 << i):
            out.append('"%s"' % ev.FLAG_NAMES[i])
    return "[" + ", ".join(out) + "]"


def _b(v):
    return "true" if v else "false"


def event_line(buf, off, t0=0, summary=None, program=""):
    """One event from an EventQueue buffer as a JSON text line (no newline)."""
    kind = buf[off]
    t = buf[off + 1] + t0
    a = off + 2
    head = '{"t_ms": %d, "type": "%s"' % (t, ev.TYPE_NAMES[kind])
    if kind == ev.PHASE:
        role = ROLES[buf[a + 3]]
        return head + (', "step": %d, "breath": "%s", "muscle": "%s", "role": %s, '
                       '"duration_ms": %d}') % (
            buf[a], BREATHS[buf[a + 1]], MUSCLES[buf[a + 2]], ('"%s"' % role) if role else "null",
            buf[a + 4])
    if kind == ev.REP:
        return head + (', "index": %d, "kind": "%s", "target_cmH2O": %s, "achieved": %s, '
                       '"peak_cmH2O": %s, "held_ms": %d, "relax_ms": %s, "flags": %s, '
                       '"residual_cmH2O": %s, "reach_ms": %s, "step": %d, '
                       '"fatigue_cmH2O_per_min": %s, "abdominal_rise_cmH2O": %s}') % (
            buf[a], MUSCLES[buf[a + 1]], cm(buf[a + 2]), _b(buf[a + 3]), cm(buf[a + 4]),
            buf[a + 5], _opt(buf[a + 6]), _flags(buf[a + 7]), cm(buf[a + 8]), _opt(buf[a + 10]),
            buf[a + 9], cm(buf[a + 11]), cm(buf[a + 12]))
    if kind == ev.DROP:
        pat = buf[a + 12]
        return head + (', "index": %d, "kind": "%s", "step": %d, "rest_cmH2O": %s, '
                       '"level_cmH2O": %s, "drop_cmH2O": %s, "relaxation_pct": %s, '
                       '"drop_ms": %s, "held_ms": %d, "achieved": %s, "flags": %s, '
                       '"abdominal_rise_cmH2O": %s, "pattern": %s, "breath_cmH2O": %s}') % (
            buf[a], MUSCLES[buf[a + 1]], buf[a + 2], cm(buf[a + 3]), cm(buf[a + 4]),
            cm(buf[a + 5]), "null" if buf[a + 6] == ev.NONE else str(buf[a + 6]),
            _opt(buf[a + 7]), buf[a + 8], _b(buf[a + 9]), _flags(buf[a + 10]), cm(buf[a + 11]),
            ('"%s"' % PATTERN_NAMES[pat]) if pat else "null", cm(buf[a + 13]))
    if kind == ev.ALARM:
        return head + ', "kind": "%s", "pressure_cmH2O": %s, "step": %d}' % (
            ev.ALARM_NAMES[buf[a]], cm(buf[a + 1]), buf[a + 2])
    if kind == ev.FAULT:
        return head + ', "kind": "%s", "active": %s}' % (ev.FAULT_NAMES[buf[a]], _b(buf[a + 1]))
    if kind == ev.CALIB:
        return head + ', "baseline_cmH2O": %s, "mvc_cmH2O": %s, "source": "%s"}' % (
            cm(buf[a]), cm(buf[a + 1]), SOURCE_NAMES[buf[a + 2]])
    if kind == ev.STATE:
        return head + ', "state": "%s"}' % STATE_NAMES[buf[a]]
    if kind == ev.ZERO:
        return head + ', "baseline_cmH2O": %s}' % cm(buf[a])
    if kind == ev.SUMMARY:
        return head + ', "program": "%s", ' % program + summary_fields(summary) + "}"
    return head + "}"


def summary_fields(sm):
    parts = []
    for i in range(len(SUMMARY_FIELDS)):
        name = SUMMARY_FIELDS[i]
        v = sm[i]
        if name.endswith("_cp"):
            parts.append('"%s": %s' % (name[:-3] + "_cmH2O", cm(v)))
        elif name.endswith("_cp_per_min"):
            parts.append('"%s": %s' % (name[:-11] + "_cmH2O_per_min", cm(v)))
        elif name in ("completed", "returned_to_rest", "leak"):
            parts.append('"%s": %s' % (name, "null" if v == ev.NONE else _b(v)))
        elif name == "mvc_source":
            parts.append('"%s": "%s"' % (name, SOURCE_NAMES[v]))
        elif name == "grade":
            parts.append('"%s": "%s"' % (name, GRADE_NAMES[v]))
        else:
            parts.append('"%s": %s' % (name, "null" if v == ev.NONE else str(v)))
    return ", ".join(parts)
