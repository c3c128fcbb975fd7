"""`pacer report` over simulated weeks of training: dated from the sessions' own data, in time
order, one trend per program, a calendar against a plan, this week against last week, each
session counted once, no "0 of 0 reps", bad files skipped in one line, human column names."""
import csv
import datetime
import json
import os

import pytest

import report_month
from host_tools import cli
from host_tools.commands import report

DAYS = 10       # two weeks starting on a Monday (with the month's gaps on days 4 and 6)


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    d = tmp_path_factory.mktemp("month")
    return report_month.make_month(str(d), DAYS, rate_hz=10)


def run_report(capsys, *argv):
    rc = cli.main(["report"] + [str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def header_start(path):
    with open(path) as f:
        return json.loads(f.readline())["started"]


@pytest.fixture(scope="module")
def made(month, tmp_path_factory):
    """The report of the fortnight given newest first, with every file's mtime on one day."""
    out = tmp_path_factory.mktemp("rep")
    for p in month:
        os.utime(p, (0, 86400 * 400))     # a pull gives every file the same mtime
    rc = cli.main(["report"] + list(reversed(month)) + ["--out", str(out)])
    assert rc == 0
    return out, list(csv.DictReader(open(out / "sessions.csv")))


def test_sessions_are_dated_by_their_start_and_ordered_by_it(month, made):
    _out, rows = made
    assert len(rows) == len(month)
    want = sorted(datetime.datetime.fromtimestamp(header_start(p)).strftime("%Y-%m-%d %H:%M")
                  for p in month)
    assert [r["date"] for r in rows] == want          # not the mtime, not the command line
    assert {r["dated_from"] for r in rows} == {"session"}


def test_one_trend_per_program_and_only_its_panels(month, made):
    made_from = month
    out, rows = made
    programs = {r["program"] for r in rows}
    assert programs == {"calibrate", "kegel", "flicks", "resonance", "reverse-kegel"}
    for p in programs - {"calibrate"}:              # one calibration: no trend to draw
        assert (out / ("progress-%s.png" % p)).stat().st_size > 0, p
    assert not (out / "progress.png").exists()      # no trend mixing programs
    kegel = [r for r in rows if r["program"] == "kegel"]
    # the simulated person gets stronger: the trend is there in the numbers plotted
    assert float(kegel[-1]["strength_cmH2O"]) > float(kegel[0]["strength_cmH2O"])
    sessions, _ = report.load(made_from)
    panels = report._panels_for([report.metrics(s) for s in sessions
                                 if s.program == "reverse-kegel"])
    titles = [p[0] for p in panels]
    assert "drops: how far the floor let go" in titles
    assert not any("strength" in t for t in titles)


def test_drops_from_the_issue_11_events_are_shown(made):
    out, rows = made
    rk = [r for r in rows if r["program"] == "reverse-kegel"]
    assert rk and all(r["drops"] and r["mean_drop_cmH2O"] for r in rk)
    page = (out / "index.html").read_text()
    assert "mean drop (cmH2O)" in page and "drops let go (%)" in page


def test_breathing_and_calibration_show_no_reps_or_target(month, made):
    out, rows = made
    for r in rows:
        if r["program"] in ("resonance", "calibrate", "reverse-kegel"):
            assert r["reps"] == "" and r["achieved"] == "", r
    sessions = [report.Session(p) for p in month]
    for s in sessions:
        title = report.session_title(s)
        if s.program in ("resonance", "calibrate"):
            assert "reps" not in title and "target" not in title, title
    res = next(s for s in sessions if s.program == "resonance")
    assert "paced breathing 5.0 min" in report.session_title(res)
    page = (out / "index.html").read_text()
    assert "0 of 0" not in page


def test_html_uses_human_column_names(made):
    out, _rows = made
    page = (out / "index.html").read_text()
    for raw in ("strength_cmH2O", "mean_hold_s", "pre_baseline_cmH2O", "rest_end_cmH2O",
                "dated_from"):
        assert raw not in page, raw
    for human in ("best squeeze (cmH2O)", "mean hold (s)", "resting tone at the start (cmH2O)"):
        assert human in page, human


def test_calendar_and_weeks_against_the_plan(month):
    sessions, skipped = report.load(month)
    assert not skipped
    rows = [dict(report.metrics(s), _start=s.start) for s in sessions]
    days = report.practice_days(rows)
    start = report_month.START.date()
    # day 0 has the calibration and two sessions; day 4 none; day 6 only the morning one
    assert days[start][0] == 3
    assert start + datetime.timedelta(days=4) not in days
    assert days[start + datetime.timedelta(days=6)][0] == 1
    weeks = dict((w, (a, b)) for w, a, b in report.weeks_compared(rows, 2))
    # week 1 (Mon 2 to Sun 8 Nov): 7 days, day 4 missed, day 6 once: 1 + 2*6 - 1 = 12 sessions
    assert weeks["sessions (plan)"] == ("12 (14)", "6 (6 so far)")
    assert weeks["days practised"] == ("6 of 7", "3 of 3")
    assert "kegel: best squeeze (cmH2O)" in weeks


def test_a_test_run_is_no_practice(capsys, month, tmp_path):
    # the board's header of a `pacer test` run, and the capture `pacer test --out` writes
    header = json.loads(open(month[1]).read().splitlines()[0])
    body = open(month[1]).read().splitlines()[1:]
    pulled = tmp_path / "session-00077.jsonl"
    pulled.write_text("\n".join([json.dumps(dict(header, injected=True))] + body) + "\n")
    capture = tmp_path / "test-capture.jsonl"
    capture.write_text("\n".join([json.dumps({"type": "host", "what": "started",
                                              "program": header["program"], "injected": True})]
                                 + body) + "\n")
    sessions, skipped = report.load([str(pulled), str(capture), month[2]])
    assert [s.path for s in sessions] == [month[2]]
    assert len(skipped) == 2 and all("test run" in why for _p, why in skipped), skipped


def test_plan_option(capsys, month, tmp_path):
    rc, _out, err = run_report(capsys, *month[:3], "--out", tmp_path, "--plan", "1")
    assert rc == 0, err
    with pytest.raises(SystemExit) as e:
        cli.main(["report", month[0], "--plan", "0"])
    assert e.value.code == 2 and "1 to 10" in capsys.readouterr().err


def test_the_same_session_pulled_and_logged_counts_once(capsys, month, tmp_path):
    pulled = month[1]
    lines = open(pulled).read().splitlines()
    header = json.loads(lines[0])
    # a `pacer log` capture of it: host marks, the same board events, a telemetry CSV
    log = tmp_path / "log-20261102-072959.jsonl"
    log.write_text("\n".join([json.dumps({"type": "host", "what": "start", "host_s": 0.1})]
                             + lines[1:]
                             + [json.dumps({"type": "host", "what": "end", "host_s": 9})])
                   + "\n")
    with open(tmp_path / "log-20261102-072959.csv", "w") as f:
        f.write("host_s,seq,t_ms,pressure_cmH2O,target_cmH2O,step,cue,abdominal_cmH2O,lost\n")
        for t in range(0, 20000, 100):
            f.write("%.1f,%d,%d,9.00,0.00,0,0,,0\n" % (t / 1000, t // 100, t))
    out = tmp_path / "rep"
    rc, so, err = run_report(capsys, pulled, log, month[2], "--out", out)
    assert rc == 0, err
    rows = list(csv.DictReader(open(out / "sessions.csv")))
    assert [r["session"] for r in rows] == [log.stem, "session-00003"]
    assert "1 duplicate file counted once" in so
    # the pulled file's own start time wins over the file name's
    assert rows[0]["date"] == datetime.datetime.fromtimestamp(header["started"]).strftime(
        "%Y-%m-%d %H:%M")
    assert "is the same session as session-00002" in (out / "index.html").read_text()


def test_dates_from_iso_text_log_start_mark_file_name_or_undated(tmp_path):
    ev = json.dumps({"t_ms": 0, "type": "phase", "step": 0, "muscle": "rest",
                     "duration_ms": 1000})

    def one(name, first):
        p = tmp_path / name
        p.write_text((json.dumps(first) + "\n" if first else "") + ev + "\n")
        os.utime(p, (0, 1e9))
        return report.Session(str(p))

    s = one("a.jsonl", {"program": "kegel", "started": "2026-11-03T08:15:00"})
    assert (s.when_text(), s.dated_from) == ("2026-11-03 08:15", "session")
    s = one("b.jsonl", {"type": "host", "what": "start", "host_s": 0,
                        "wall": "2026-11-04T09:00:00"})
    assert (s.when_text(), s.dated_from) == ("2026-11-04 09:00", "log start mark")
    s = one("log-20261105-101500.jsonl", None)
    assert (s.when_text(), s.dated_from) == ("2026-11-05 10:15", "file name")
    # a board clock never set (counting from 2000) is no date; nor is the file's mtime
    s = one("c.jsonl", {"program": "kegel", "start": 12345})
    assert (s.when_text(), s.dated_from) == ("undated", "undated")
    s = one("d.jsonl", {"program": "kegel", "started": None})    # clock not set yet
    assert (s.when_text(), s.dated_from) == ("undated", "undated")


def test_a_bad_or_truncated_file_is_one_line_and_the_rest_is_made(capsys, month, tmp_path):
    cut = tmp_path / "cut.jsonl"
    text = open(month[1]).read()
    cut.write_text(text[:len(text) // 2])            # a pull cut off mid-record
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    out = tmp_path / "rep"
    rc, _so, err = run_report(capsys, month[0], cut, junk, month[2], "--out", out)
    assert rc == 0
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "cut.jsonl" in lines[0] and "cut short" in lines[0]
    assert "junk.jsonl" in lines[1] and "not JSON" in lines[1]
    rows = list(csv.DictReader(open(out / "sessions.csv")))
    assert [r["session"] for r in rows] == ["session-00001", "session-00003"]
    page = (out / "index.html").read_text()
    assert "Skipped" in page and "cut.jsonl" in page


def test_out_naming_a_file_or_an_impossible_path_is_one_line(capsys, month, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    for bad in (f, f / "sub"):
        rc, _so, err = run_report(capsys, month[0], "--out", bad)
        assert rc == 2 and len(err.strip().splitlines()) == 1 and "--out" in err, err
    assert f.read_text() == "x"


def test_a_warming_probe_is_not_reported_as_a_tighter_floor(month, made):
    # The simulated probe warms by 2-4 cmH2O over its first minutes, so the rest reading at a
    # session's end is well above its start. The device gives no resting-tone change when it
    # cannot take the warm-up out; the report must not make one up from the two readings.
    _out, rows = made
    summaries = {}
    for p in month:
        with open(p) as f:
            last = json.loads(f.readlines()[-1])
        summaries[os.path.basename(p)] = last
    warm = [r for r in rows if r["pre_baseline_cmH2O"] and r["post_baseline_cmH2O"]
            and float(r["post_baseline_cmH2O"]) - float(r["pre_baseline_cmH2O"]) > 1.0]
    assert warm
    for r in warm:
        sm = summaries[r["file"]]
        got, want = r["rest_tone_change_cmH2O"], sm.get("rest_tone_change_cmH2O")
        assert (got == "") if want is None else (float(got) == want), (r["file"], got, want)
        assert r["rest_end_cmH2O"] == "" if want is None else r["rest_end_cmH2O"] != ""
    assert any(summaries[r["file"]].get("rest_tone_change_cmH2O") is None for r in warm)
