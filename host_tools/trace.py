"""Reading pressure traces (CSV) into the integer samples the engine takes.

A trace has a header row naming at least `t_ms` and `pressure_cmH2O` (gauge); `abdominal_cmH2O`
is optional; other columns are ignored. Any sample rate is accepted. Timestamps may jitter; a
sample whose time does not move forward is dropped and counted. An empty or `nan` pressure cell is a
sample the sensor could not give.
"""
import csv
import math

from host_tools.errors import CliError

MISSING = -2000000  # same value as pacer.replay.MISSING
ABSENT = -1000000   # same value as pacer.engine.ABSENT


class Trace:
    def __init__(self, path, t0, samples, dropped, has_abd, columns):
        self.path = path
        self.t0 = t0
        self.samples = samples
        self.dropped = dropped
        self.has_abd = has_abd
        self.columns = columns

    @property
    def duration_ms(self):
        return self.samples[-1][0] if self.samples else 0


def _cp(text, path, line, col):
    text = text.strip()
    if text == "" or text.lower() in ("nan", "na", "null", "none"):
        return MISSING
    try:
        v = float(text)
    except ValueError:
        raise CliError("%s line %d: %s is %r, not a number; fix or blank the cell"
                       % (path, line, col, text)) from None
    if math.isinf(v) or abs(v) > 10000:
        raise CliError("%s line %d: %s = %s is not a plausible pressure in cmH2O"
                       % (path, line, col, text))
    return int(round(v * 100))


def read(path):
    try:
        f = open(path, newline="", encoding="utf-8-sig")   # a spreadsheet may add a BOM
    except FileNotFoundError:
        raise CliError("trace %s not found" % path) from None
    except IsADirectoryError:
        raise CliError("trace %s is a directory, expected a CSV file" % path) from None
    except OSError as e:
        raise CliError("cannot read trace %s: %s" % (path, e.strerror)) from None
    with f:
        try:
            rows = csv.reader(f)
            header = next(rows, None)
            if header is None:
                raise CliError("trace %s is empty; expected a header with t_ms,pressure_cmH2O"
                               % path)
            cols = [h.strip() for h in header]
            for need in ("t_ms", "pressure_cmH2O"):
                if need not in cols:
                    raise CliError("trace %s has no %s column (header: %s)"
                                   % (path, need, ascii(",".join(cols))[:120]))
            it = cols.index("t_ms")
            ip = cols.index("pressure_cmH2O")
            ia = cols.index("abdominal_cmH2O") if "abdominal_cmH2O" in cols else -1
            samples = []
            dropped = 0
            t0 = None
            last = None
            for n, row in enumerate(rows, start=2):
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) <= max(it, ip, ia):
                    raise CliError("%s line %d: %d cells, the header has %d"
                                   % (path, n, len(row), len(cols)))
                try:
                    t = int(round(float(row[it])))
                except (ValueError, OverflowError):  # OverflowError: "inf"; nan is a ValueError
                    raise CliError("%s line %d: t_ms is %r, not a number"
                                   % (path, n, row[it])) from None
                if t0 is None:
                    t0 = t
                rel = t - t0
                if last is not None and rel <= last:
                    dropped += 1
                    continue
                if rel > 24 * 3600 * 1000:
                    raise CliError("%s line %d: t_ms jumps more than a day past the first sample"
                                   % (path, n))
                last = rel
                p = _cp(row[ip], path, n, "pressure_cmH2O")
                a = _cp(row[ia], path, n, "abdominal_cmH2O") if ia >= 0 else ABSENT
                samples.append((rel, p, a))
        except UnicodeDecodeError:
            raise CliError("trace %s is not a text CSV file" % path) from None
        except csv.Error as e:
            raise CliError("trace %s is not valid CSV: %s" % (path, e)) from None
    if not samples:
        raise CliError("trace %s has a header but no samples" % path)
    return Trace(path, t0 or 0, samples, dropped, ia >= 0, cols)
