"""Cue envelopes: LED gamma and breath ramps, colours, vibration patterns, haptic-only mode."""
from pacer import builtin
from pacer.cue import COLOURS, GAP_MS, GREEN, NUDGE, PATTERNS, SOFT_PCT, Cue
from pacer.engine import Engine
from pacer.settings import Settings


def test_gamma_table_is_monotonic_and_spans_the_range():
    g = Cue(Settings()).gamma
    assert g[0] == 0 and g[255] == 65535
    assert all(g[i] <= g[i + 1] for i in range(255))
    assert g[128] < 65535 * 0.3  # perceptual: half brightness is far below half duty


def test_every_vibration_pulse_can_be_felt_and_patterns_are_distinct():
    seen = set()
    for pat in PATTERNS[1:]:
        assert len(pat) % 2 == 1  # ends with a pulse
        for k in range(0, len(pat), 2):
            assert pat[k] * 10 >= 40
        assert sum(pat) * 10 <= 700
        assert pat not in seen
        seen.add(pat)


def run_ticks(eng, t0, t1, p):
    out = []
    for t in range(t0, t1, 20):
        eng.tick(t, p)
        out.append((t, eng.cue.led, eng.cue.rgb, eng.cue.motor))
    return out


def test_inhale_ramps_up_and_exhale_ramps_down():
    eng = Engine(builtin.load("resonance"), Settings())
    eng.start()
    run_ticks(eng, 0, 5000, 1500)
    inhale = run_ticks(eng, 5000, 9000, 1500)
    exhale = run_ticks(eng, 9000, 15000, 1500)
    li = [x[1] for x in inhale]
    le = [x[1] for x in exhale]
    assert li == sorted(li) and li[-1] > 10 * li[0]
    assert le == sorted(le, reverse=True) and le[0] > 10 * le[-1]


def test_squeeze_cue_turns_green_at_target_and_buzzes_at_transitions():
    eng = Engine(builtin.load("kegel"), Settings())
    eng.start()
    run_ticks(eng, 0, 10000, 1500)
    squeeze = run_ticks(eng, 10000, 11000, 1500)
    assert squeeze[1][2] == _scaled(COLOURS[1], eng)
    assert any(x[3] > 0 for x in squeeze[:15])   # contract buzz
    reached = []
    for k in range(50):   # rise at 30 cmH2O/s, as people squeeze
        reached += run_ticks(eng, 11000 + 20 * k, 11020 + 20 * k, 1500 + 60 * k)
    assert reached[-1][2] == _scaled(GREEN, eng)
    first = [k for k, x in enumerate(reached) if x[2] & 0x00FF00 and not x[2] & 0xFF0000][0]
    assert 12 <= first <= 16                      # 23 cmH2O crossed at the 14th tick
    assert reached[first][3] > 0                  # the target-reached tick starts at once
    assert all(x[3] == 0 for x in reached[first - 4:first])
    quiet = run_ticks(eng, 12000, 15000, 4500)
    assert all(x[3] == 0 for x in quiet)        # no buzzing while holding


def _scaled(colour, eng):
    lvl = (eng.cue.level * (eng.s.brightness >> 8)) >> 8
    r = ((colour >> 16) & 255) * lvl // 255
    g = ((colour >> 8) & 255) * lvl // 255
    b = (colour & 255) * lvl // 255
    return (r << 16) | (g << 8) | b


def test_haptic_only_keeps_lights_off_and_pulses_breath():
    eng = Engine(builtin.load("resonance"), Settings({"haptic_only": True}))
    eng.start()
    out = run_ticks(eng, 0, 30000, 1500)
    assert all(x[1] == 0 and x[2] == 0 for x in out)
    # inhale at 5 s, exhale at 9 s, inhale at 15 s...: each starts a pulse
    for start in (5000, 9000, 15000, 19000):
        assert any(x[3] > 0 for x in out if start <= x[0] < start + 60)


def test_tension_nudge_is_steady_warm_red_and_a_soft_buzz():
    eng = Engine(builtin.load("kegel"), Settings())
    eng.start()
    run_ticks(eng, 0, 15000, 1500)
    out = run_ticks(eng, 15000, 20000, 3000)   # stays 15 cmH2O above rest in the release
    late = [x for x in out if x[0] > 15000 + 2000 + 2000 + 40]
    tense = [x for x in late if x[2] == _scaled(NUDGE, eng)]
    assert len(tense) > 20 and tense[-1][0] == late[-1][0]   # steady to the end, no flashing
    buzz = [x[3] for x in late if x[3] > 0]
    assert buzz and max(buzz) == eng.s.vibration * SOFT_PCT // 100   # a nudge, not an alarm


def test_breath_pulse_follows_a_muscle_change_instead_of_being_lost():
    eng = Engine(builtin.load("reverse-kegel"), Settings())
    eng.start()
    tl = eng.tl
    i = [k for k in range(tl.n) if tl.muscle[k] == 4][0]    # the first drop, cued on the inhale
    t0 = tl.start_ms[i]
    run_ticks(eng, 0, t0, 1500)
    out = run_ticks(eng, t0, t0 + 1500, 1500)
    full = [x for x in out if x[3] == eng.s.vibration]
    soft = [x for x in out if 0 < x[3] < eng.s.vibration]
    assert full and soft
    assert soft[0][0] - full[-1][0] >= GAP_MS       # its own burst, after the drop pattern
    assert len(soft) * 20 >= 120                    # the whole 120 ms inhale pulse


def test_pause_turns_the_motor_off():
    eng = Engine(builtin.load("kegel"), Settings())
    eng.start()
    run_ticks(eng, 0, 10020, 1500)
    assert eng.cue.motor > 0          # the contract buzz is playing
    eng.pause(10020)
    out = run_ticks(eng, 10040, 12000, 1500)
    assert all(x[3] == 0 for x in out)


def test_a_tense_start_does_not_cut_the_squeeze_buzz_short():
    eng = Engine(builtin.load("kegel"), Settings())
    eng.start()
    run_ticks(eng, 0, 9000, 1500)
    run_ticks(eng, 9000, 10000, 1500 + 900)   # already above the 23 cmH2O target at the cue
    out = run_ticks(eng, 10000, 10400, 1500 + 900)
    buzz = [x for x in out if x[3] > 0]
    assert len(buzz) * 20 >= 240   # the whole 250 ms contract pattern, not a 40 ms tick
