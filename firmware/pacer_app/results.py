"""The last sessions' relaxation results, for the device alone (no computer): read back from the
session logs when the person asks for them with the button, and shown on the OLED (or as grade
flashes on boards without one).

Each Result is read from the session's summary record.
"""
import json

_KEEP = 3
_SCAN = 8     # the newest session logs looked at


class Result:
    def __init__(self, sid, sm):
        tone = sm.get("rest_tone_change_cmH2O")
        grade = sm.get("grade")
        self.sid = sid
        self.let_go = sm.get("drops_achieved", 0) + sm.get("pushes_coordinated", 0)
        self.asked = sm.get("drops", 0) + sm.get("pushes_judged", 0)
        self.paradoxical = sm.get("paradoxical", 0)
        self.tone_cp = None if tone is None else int(round(tone * 100))
        self.grade = 3 if grade == "great" else (2 if grade == "good" else 1)


def _relaxation(sm):
    """A session that asked the floor to let go: drops, pushes or down-training."""
    return bool(sm.get("drops") or sm.get("pushes") or (
        not sm.get("reps") and sm.get("rest_tone_change_cmH2O") is not None))


def load(store):
    """The newest relaxation results, newest first (at most _KEEP)."""
    out = []
    ids = [s[0] for s in store.sessions() if s[2]]
    for sid in reversed(ids[-_SCAN:]):
        reader = store.read_session(sid)
        if reader is None:
            continue
        sm = None
        first = True
        for text in reader:
            if first:
                first = False
                if '"injected": true' in text:
                    break   # samples from a host (`pacer test`): nobody practised
            if '"summary"' in text:
                try:
                    d = json.loads(text)
                except ValueError:
                    continue
                if d.get("type") == "summary":
                    sm = d
        reader.close()
        if sm is not None and _relaxation(sm):
            out.append(Result(sid, sm))
            if len(out) == _KEEP:
                break
    return out


def lines(results):
    """Up to 4 OLED lines of 16 characters."""
    if not results:
        return ["NO RELAX RESULTS", "run reverse-kegel", "push or relax"]
    out = ["LAST RELAXATION"]
    for r in results:
        # 16 characters a line: session id, the grade as 1-3 stars, let go / asked, then the
        # paradoxical count (P) or the resting tone change in cmH2O
        text = "%d %s" % (r.sid, "***"[:r.grade])
        if r.asked:
            text += " %d/%d" % (r.let_go, r.asked)
        if r.paradoxical:
            text += " P%d" % r.paradoxical
        elif r.tone_cp is not None:
            text += " %+.1f" % (r.tone_cp / 100)
        out.append(text[:16])
    return out
