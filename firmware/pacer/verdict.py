"""The session's grade, from its summary: what the done pattern, the screen and the record say.

A grade is earned by what was asked of the person, measured against their own rest:
- squeezes: the share of reps achieved, and of reps relaxed after them;
- drops: the share of drops achieved; pushes: the share coordinated (pushes are judged only with
  an abdominal channel: on one channel they do not count either way);
- down-training (no contractions): tension episodes per 10 minutes.
The lowest of the shares that apply decides: GREAT from 80 %, GOOD from 50 %. It is never GREAT
when a drop or push was asked for and none was achieved, when the floor tightened on any drop or
push (paradoxical: the hazard here is praising it), when no rep was relaxed, when the session was
stopped early or when the sensor faulted.
"""
from pacer._compat import const
from pacer.summary import (
    S_ACHIEVED,
    S_COMPLETED,
    S_DROPS,
    S_DROPS_OK,
    S_DURATION,
    S_FAULTS,
    S_NORELAX,
    S_PARADOX,
    S_PUSHES_JUDGED,
    S_PUSHES_OK,
    S_REPS,
    S_TENSION,
)

KEEP_GOING = const(1)
GOOD = const(2)
GREAT = const(3)
NAMES = ("", "keep_going", "good", "great")

_GREAT_PCT = const(80)
_GOOD_PCT = const(50)
_CALM_PER_10MIN = const(1)      # down-training: at most 1 tension episode per 10 min is great
_FAIR_PER_10MIN = const(3)


def grade(sm, downtraining):
    worst = 100
    capped = sm[S_COMPLETED] != 1 or sm[S_FAULTS] > 0
    reps = sm[S_REPS]
    if reps:
        share = sm[S_ACHIEVED] * 100 // reps
        relaxed = (reps - sm[S_NORELAX]) * 100 // reps
        worst = share if share < relaxed else relaxed
        if sm[S_NORELAX] == reps:
            capped = True
    for n, ok in ((sm[S_DROPS], sm[S_DROPS_OK]), (sm[S_PUSHES_JUDGED], sm[S_PUSHES_OK])):
        if n:
            share = ok * 100 // n
            if share < worst:
                worst = share
            if ok == 0:
                capped = True
    if sm[S_PARADOX]:
        capped = True
    if downtraining and not reps and not sm[S_DROPS] and not sm[S_PUSHES_JUDGED]:
        minutes10 = sm[S_DURATION] // 600000
        if minutes10 < 1:
            minutes10 = 1
        per = sm[S_TENSION] // minutes10
        if per > _FAIR_PER_10MIN:
            worst = 0
        elif per > _CALM_PER_10MIN:
            worst = _GOOD_PCT
    if worst >= _GREAT_PCT and not capped:
        return GREAT
    if worst >= _GOOD_PCT:
        return GOOD
    return KEEP_GOING
