"""Debounced button: bounce rejection, short / long / very long presses, ticks wrap."""
import hw_env  # noqa: F401  (sys.path: firmware/, host_tools/vdev/)

# isort: split
import pytest

import hw_scenarios as S
from pacer_hw.button import LONG, NONE, SHORT, VLONG, Button


@pytest.mark.parametrize("start", [0, (1 << 30) - 3000])
def test_event_sequence(start):
    # 10 ms bounce ignored; 300 ms short; 1000 ms ambiguous (nothing); 2000 ms long;
    # 6000 ms hold fires VLONG at 5000 ms while still held, release silent
    assert S.button_events(start) == [(660, SHORT), (4260, LONG), (9530, VLONG)]


def _feed(b, pattern, t=0, dt=5):
    ev = []
    for level, ms in pattern:
        for _ in range(ms // dt):
            e = b.update(t, level)
            if e != NONE:
                ev.append((t, e))
            t += dt
    return ev


def test_chatter_shorter_than_debounce_never_registers():
    b = Button(debounce_ms=30)
    ev = _feed(b, [(1, 50)] + [(0, 10), (1, 10)] * 30 + [(1, 100)])
    assert ev == [] and not b.pressed


def test_press_time_counts_from_the_first_edge():
    b = Button(debounce_ms=30, short_ms=600)
    ev = _feed(b, [(1, 50), (0, 590), (1, 100)])
    assert [e for _, e in ev] == [SHORT]  # 590 ms < 600 ms, debounce not added on top
    ev = _feed(b, [(0, 610), (1, 100)], t=1000)
    assert ev == []  # 610 ms: past short, before long


def test_active_high():
    b = Button(active_low=False)
    _feed(b, [(0, 50), (1, 500)])
    assert b.pressed
    assert Button().update(0, 1) == NONE
    assert LONG != VLONG
