"""Telemetry frames on the host: parse the fixed-width lines pacer_app.telemetry.Telemetry
writes, and count the frames lost between two sequence numbers."""
from pacer_app.telemetry import FRAME_MAX, FRAME_SHORT


def _s16(v):
    return v - 0x10000 if v >= 0x8000 else v


def parse_frame(line):
    """(seq, t, p, target, step, cue, abd) from one frame line (str or bytes, newline
    optional); step is -1 for fff, abd None when absent. None if the line is not a whole frame."""
    if not isinstance(line, str):
        try:
            line = str(bytes(line), "utf-8")
        except ValueError:
            return None
    line = line.rstrip("\r\n")
    n = len(line)
    if (n != FRAME_SHORT - 1 and n != FRAME_MAX - 1) or line[0] != "T":
        return None
    for i in range(1, n):
        c = line[i]
        if (c == ",") != (i in (9, 14, 19, 23, 26)):
            return None
        if c != "," and c not in "0123456789abcdef":
            return None
    step = int(line[20:23], 16)
    return (int(line[1:3], 16), int(line[3:9], 16), _s16(int(line[10:14], 16)),
            _s16(int(line[15:19], 16)), -1 if step == 0xFFF else step, int(line[24:26], 16),
            _s16(int(line[27:31], 16)) if n == FRAME_MAX - 1 else None)


def lost_frames(prev_seq, seq):
    """how many frames were lost between two received sequence numbers."""
    return (seq - prev_seq - 1) & 0xFF
