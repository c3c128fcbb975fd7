"""`pacer ui` in a real headless Chromium against a virtual board with a simulated person: a
short kegel and the built-in reverse-kegel seen live in the page, start/pause/stop from it, bad
programs and settings refused with the CLI's own errors, progress from the saved sessions, the
security checks, and the Web Serial mode of a static copy through an injected navigator.serial
stand-in."""
import json
import os
import urllib.error
import urllib.request

import aiohttp
import pytest

from host_tools import programs as host_programs
from host_tools.errors import CliError
from ui_browser import ROOT, UiProcess, browser, chromium_missing, close_browser

pytestmark = pytest.mark.skipif(chromium_missing() is not None, reason=chromium_missing() or "")

# a safety net for a loaded machine, never a measure of speed
WAIT_S = float(os.environ.get("PACER_UI_WAIT_S", "300"))

SHORT_KEGEL = {"name": "ui-kegel", "title": "UI test: 2 squeezes",
               "blocks": [{"steps": [{"s": 5, "role": "baseline"}]},
                          {"reps": 2, "steps": [{"s": 4, "muscle": "squeeze"},
                                                {"s": 4, "muscle": "release"}]}]}
@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    out = tmp_path_factory.mktemp("ui")
    proc = UiProcess(out, rate=8.0)      # the 4-minute reverse-kegel in about 30 s
    try:
        proc.ready.wait(WAIT_S)
        assert any("board ready" in x for x in proc.lines), "\n".join(proc.lines)
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def page(ui):
    drv = browser()
    try:
        drv.get(ui.url)
        wait_for(drv, "return document.getElementById('conn').textContent === 'board connected'")
        yield drv
    finally:
        close_browser(drv)


def wait_for(drv, script, timeout=WAIT_S):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(drv, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(script))


def js(drv, script):
    return drv.execute_script(script)


def push_in_page(drv, spec_text):
    js(drv, "document.querySelector('.tab[data-tab=programs]').click()")
    wait_for(drv, "return document.querySelectorAll('#program-table tbody tr').length > 0")
    drv.execute_script("document.getElementById('program-json').value = arguments[0];"
                       "document.getElementById('program-errors').textContent = '';"
                       "document.getElementById('program-ok').textContent = '';"
                       "document.getElementById('program-push').click()", spec_text)
    wait_for(drv, "return document.getElementById('program-errors').children.length > 0 || "
                  "document.getElementById('program-ok').textContent !== ''")
    return (js(drv, "return [...document.querySelectorAll('#program-errors li')]"
                    ".map(e => e.textContent)"),
            js(drv, "return document.getElementById('program-ok').textContent"))


def run_in_page(drv, name):
    """Start `name` from the page and watch it to its summary; returns what was seen."""
    js(drv, "document.querySelector('.tab[data-tab=live]').click()")
    wait_for(drv, "return [...document.getElementById('program').options]"
                  ".some(o => o.value === '%s')" % name)
    js(drv, "window.seen = {phases: [], breath: [], rest: 0};"
            "new MutationObserver(() => window.seen.phases.push("
            "  document.getElementById('phase').textContent))"
            ".observe(document.getElementById('phase'), {childList: true});"
            "new MutationObserver(() => window.seen.breath.push("
            "  document.getElementById('breath-text').textContent))"
            ".observe(document.getElementById('breath-text'), {childList: true});"
            "document.getElementById('program').value = '%s';"
            "window.frames0 = window.pacerLive.frames;"
            "document.getElementById('start').click()" % name)
    wait_for(drv, "return !document.getElementById('summary').hidden")
    return js(drv, "const L = window.pacerLive; return {"
                   "phases: window.seen.phases, breath: window.seen.breath,"
                   "frames: L.frames - window.frames0, drawn: L.drawn, points: L.xs.length,"
                   "rests: L.rests.filter(r => r !== null).length,"
                   "targets: L.targets.filter(t => t !== null).length,"
                   "verdicts: [...document.querySelectorAll('#verdicts li')]"
                   "  .map(e => e.textContent),"
                   "summary: document.getElementById('summary').textContent,"
                   "phase: document.getElementById('phase').textContent}")


def test_bad_program_refused_with_the_cli_errors(page, ui):
    bad = {"name": "ui-bad", "blocks": [{"reps": 2, "steps": [{"s": 0, "muscle": "jump"}]}]}
    with pytest.raises(CliError) as cli:
        host_programs.push_line(bad, "from the page")
    errors, ok = push_in_page(page, json.dumps(bad))
    assert ok == ""
    # the page lists each problem the CLI's one line names
    assert "; ".join(errors) == str(cli.value).split(": ", 1)[1]
    assert len(errors) >= 2
    errors, ok = push_in_page(page, '{"name": "kegel", "blocks": [{"steps": [{"s": 5}]}]}')
    assert errors == ["'kegel' is a built-in program's name; rename yours"]
    errors, ok = push_in_page(page, '{"name": "ui-x", "blocks": [')
    assert len(errors) == 1 and errors[0].startswith("the program is not valid JSON")
    names = js(page, "return [...document.querySelectorAll("
                     "'#program-table tbody tr td:first-child')].map(e => e.textContent)")
    assert "ui-bad" not in names and "ui-x" not in names


def test_bad_setting_refused_and_nothing_changed(page):
    js(page, "document.querySelector('.tab[data-tab=settings]').click()")
    wait_for(page, "return document.querySelector('#settings-table input[data-key=loop_hz]')")
    js(page, "const i = document.querySelector('#settings-table input[data-key=loop_hz]');"
             "i.value = '500'; i.nextElementSibling.click()")
    wait_for(page, "return document.querySelector('#settings-table input[data-key=loop_hz]')"
                   ".parentElement.querySelector('span').textContent !== ''")
    msg = js(page, "return document.querySelector('#settings-table input[data-key=loop_hz]')"
                   ".parentElement.querySelector('span').textContent")
    assert msg == ("settings rejected: loop_hz: must be a whole number from 10 to 100 "
                   "(control loop rate in Hz), got 500")
    js(page, "document.querySelector('.tab[data-tab=settings]').click()")   # reload from board
    wait_for(page, "return document.querySelector('#settings-table input[data-key=loop_hz]')"
                   "&& document.querySelector('#settings-table input[data-key=loop_hz]').value"
                   " === '50'")


def test_kegel_seen_live(page):
    errors, ok = push_in_page(page, json.dumps(SHORT_KEGEL))
    assert errors == [] and ok.startswith("Pushed ui-kegel")
    seen = run_in_page(page, "ui-kegel")
    assert "Squeeze" in seen["phases"] and "Let go" in seen["phases"]
    assert seen["frames"] > 50 * 20 * 0.8      # 21 s of session at 50 Hz, allowing drops
    assert seen["targets"] > 0                  # the target band was drawn
    reps = [v for v in seen["verdicts"] if "Rep " in v]
    assert len(reps) == 2, seen["verdicts"]
    assert "2 of 2" in seen["summary"] or "of 2" in seen["summary"]
    assert seen["phase"] == "Done"


def test_reverse_kegel_seen_live_against_the_resting_line(page):
    seen = run_in_page(page, "reverse-kegel")
    assert "Drop: let go" in seen["phases"] and "Let go" in seen["phases"]
    # the breath pacer follows the program's cues: breathe in on each drop, out on release
    assert "breathe in" in seen["breath"] and "breathe out" in seen["breath"]
    assert seen["rests"] > 0 and seen["targets"] == 0   # a resting line, no squeeze band
    assert seen["frames"] > 50 * 240 * 0.8
    assert seen["phase"] == "Done"


def test_start_pause_stop_from_the_page(page):
    js(page, "document.querySelector('.tab[data-tab=live]').click();"
             "document.getElementById('program').value = 'kegel';"
             "document.getElementById('start').click()")
    wait_for(page, "return document.getElementById('phase').textContent === 'Squeeze'")
    js(page, "document.getElementById('pause').click()")
    wait_for(page, "return document.getElementById('pause').textContent === 'Resume'")
    wait_for(page, "return window.pacerLive.states.indexOf('paused') >= 0")
    js(page, "document.getElementById('pause').click()")
    wait_for(page, "return document.getElementById('pause').textContent === 'Pause'")
    js(page, "document.getElementById('stop').click()")
    wait_for(page, "return !document.getElementById('summary').hidden")
    assert js(page, "return document.getElementById('phase').textContent") == "Stopped"
    assert "stopped early" in js(page, "return document.getElementById('summary').textContent")
    assert js(page, "return document.getElementById('start').disabled") is False
    states = js(page, "return window.pacerLive.states")
    assert states.index("paused") < len(states) - 1 and "running" in states[states.index("paused"):]


def test_progress_from_the_saved_sessions(page, ui):
    js(page, "document.querySelector('.tab[data-tab=progress]').click()")
    # the two finished sessions and the stopped kegel, each saved when its summary came
    try:
        wait_for(page, "return document.querySelectorAll('#sessions-table tbody tr').length >= 3")
    except Exception:
        raise AssertionError("no sessions shown; pacer ui said:\n" + "\n".join(ui.lines[-15:]))
    progs = js(page, "return [...document.querySelectorAll('#sessions-table tbody tr')]"
                     ".map(r => r.children[1].textContent)")
    assert sorted(progs) == ["kegel", "reverse-kegel", "ui-kegel"]
    # trends one program at a time: reverse-kegel has drops and no squeezes
    opts = js(page, "return [...document.querySelectorAll('#progress-program option')]"
                    ".map(o => o.value)")
    assert sorted(opts) == ["kegel", "reverse-kegel", "ui-kegel"]
    js(page, "const s = document.getElementById('progress-program'); s.value = 'reverse-kegel';"
             "s.dispatchEvent(new Event('change'))")
    assert "no data" in js(page, "return document.getElementById('chart-strength').textContent")
    assert js(page, "return document.querySelectorAll('#chart-drops canvas').length") == 1
    js(page, "const s = document.getElementById('progress-program'); s.value = 'kegel';"
             "s.dispatchEvent(new Event('change'))")
    assert js(page, "return document.querySelectorAll('#chart-strength canvas').length") == 1
    assert js(page, "return document.querySelectorAll('#chart-drops canvas').length") == 0
    assert js(page, "return document.querySelectorAll('#calendar div.l1, #calendar div.l2, "
                    "#calendar div.l3').length") >= 1
    href = js(page, "return document.getElementById('csv-link').href")
    with urllib.request.urlopen(href) as r:
        text = r.read().decode()
    header = text.splitlines()[0].split(",")
    assert header[:2] == ["session", "program"] and {"day", "reps", "achieved"} <= set(header)
    assert len(text.splitlines()) - 1 == len(progs)


def _status(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def test_security_checks(ui):
    api = "%s/api/programs?token=%s" % (ui.base, ui.token)
    code, _, headers = _status(api)
    assert code == 200
    csp = headers["Content-Security-Policy"]
    assert "http" not in csp.replace("ws://127.0.0.1:%d" % ui.port, "") and "*" not in csp
    assert _status("%s/api/programs" % ui.base)[0] == 403                       # no token
    assert _status("%s/api/programs?token=x%s" % (ui.base, ui.token))[0] == 403  # wrong token
    code, body, _ = _status(api, {"Host": "attacker.example:%d" % ui.port})      # DNS rebinding
    assert code == 403 and "Host" in body
    code, body, _ = _status(api, {"Origin": "http://attacker.example"})
    assert code == 403 and "Origin" in body
    assert _status(ui.base + "/", {"Host": "attacker.example"})[0] == 403

    async def ws(token, origin=None):
        async with aiohttp.ClientSession() as s:
            try:
                async with s.ws_connect("%s/ws?token=%s" % (ui.base, token),
                                        headers={"Origin": origin} if origin else {}) as w:
                    msg = await w.receive_json()
                    return msg["k"]
            except aiohttp.WSServerHandshakeError as e:
                return e.status
    import asyncio
    assert asyncio.run(ws(ui.token)) == "hello"
    assert asyncio.run(ws("")) == 403
    assert asyncio.run(ws(ui.token, origin="http://attacker.example")) == 403
    assert asyncio.run(ws(ui.token, origin=ui.base)) == "hello"


def test_page_cannot_send_raw_commands(ui):
    import asyncio

    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect("%s/ws?token=%s" % (ui.base, ui.token)) as w:
                await w.send_json({"id": 7, "cmd": "sessions delete 1"})
                while True:
                    msg = await w.receive_json()
                    if msg["k"] == "reply":
                        return msg
    msg = asyncio.run(go())
    assert msg["id"] == 7 and "may not send" in msg["error"]


STATIC = ROOT / "host_tools" / "ui" / "static" / "index.html"

# A stand-in for navigator.serial (tests/serial_standin.js): a port that answers the protocol's
# commands and, on `start`, plays a drop session with issue 11's events (drop verdicts, a
# paradoxical drop, a tension nudge, the new summary fields) as lines, as a board sends them.
SERIAL_STANDIN = (ROOT / "tests" / "serial_standin.js").read_text()


def test_web_serial_static_copy_with_issue11_events():
    drv = browser(900, 1000)
    try:
        drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SERIAL_STANDIN})
        drv.get(STATIC.as_uri())
        assert js(drv, "return document.getElementById('serial-connect').hidden") is False
        js(drv, "document.getElementById('serial-connect').click()")
        wait_for(drv, "return document.getElementById('conn').textContent === 'board connected'")
        assert js(drv, "return window.serialWritten.slice(0, 3)") == ["", "hello", "stream on"]
        js(drv, "document.getElementById('program').value = 'reverse-kegel';"
                "window.nudgeSeen = false; new MutationObserver(() => { if "
                "(!document.getElementById('nudge').hidden) window.nudgeSeen = true; })"
                ".observe(document.getElementById('nudge'), {attributes: true});"
                "document.getElementById('start').click()")
        wait_for(drv, "return !document.getElementById('summary').hidden")
        assert "start reverse-kegel" in js(drv, "return window.serialWritten")
        verdicts = js(drv, "return [...document.querySelectorAll('#verdicts li')]"
                           ".map(e => [e.className, e.textContent])")
        texts = [t for _, t in verdicts]
        assert ["good", "\u2713Drop 1: let go 2.3 cmH2O below rest (12 %)"] in verdicts
        paradox = [v for v in verdicts if v[1].startswith("\u2717Drop 2")]
        assert paradox and paradox[0][0] == "miss" and "tightened" in paradox[0][1]
        assert any("Push 3: coordinated" in t for t in texts)
        assert any("Tension noticed" in t for t in texts)
        assert js(drv, "return window.nudgeSeen") is True
        # the push step that followed the nudge took its banner down
        assert js(drv, "return document.getElementById('nudge').hidden") is True
        summary = js(drv, "return document.getElementById('summary').textContent")
        assert "Keep going" in summary and "1 of 2" in summary and "-0.8 cmH2O" in summary
        assert "Great" not in summary and "Good" not in summary   # never praise a tightening
        assert js(drv, "return window.pacerLive.rests.filter(r => r === 18.2).length") > 0
        # every frame line parsed: 300 of the session, one before each of the 4 replies
        assert js(drv, "return window.pacerLive.frames") == 304
    finally:
        close_browser(drv)
