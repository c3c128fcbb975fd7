"""`pacer ui` figures for `make bench`, measured in headless Chromium (tests/ui_browser.py)
against `pacer ui --vboard` with a simulated person:

- ui_frame_latency_p95_ms: per telemetry frame, from the server reading it off the serial port
  (its wall-clock stamp) to the page's animation-frame callback that draws it, on one computer's
  clock, over a minute of kegel at real time (50 frames/s); the same figure over the accelerated
  session below is ui_frame_latency_p95_ms_accelerated (RATE x 50 frames/s);
- ui_frames_dropped: frames missing from the page over a 10-minute session (kegel-10 cut at 10
  minutes) run at RATE times real time, by sequence-number gaps (lost anywhere between the board
  and the page);
- ui_page_bytes: what the browser transferred to show the page (document, script, styles, chart
  library), from its Resource Timing entries.

    .venv/bin/python tools/bench/ui_bench.py [--rate 10]
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from ui_browser import UiProcess, browser, chromium_missing, close_browser  # noqa: E402

SESSION_MS = 10 * 60 * 1000
PROGRAM = "kegel-10"       # 12:10 long; the figures cover its first 10 minutes
REALTIME_MS = 60 * 1000    # the latency figure: a minute of kegel at real time (50 frames/s)


def _until(drv, script, timeout=1800):
    WebDriverWait(drv, timeout, poll_frequency=0.5).until(lambda d: d.execute_script(script))


def _session(work: Path, rate: float, program: str, until_ms: int) -> dict:
    """Run `program` from the page until its frames reach until_ms; what the page measured."""
    ui = UiProcess(work, rate=rate)
    drv = browser()
    try:
        ui.ready.wait(600)
        drv.get(ui.url)
        _until(drv, "return document.getElementById('conn').textContent === 'board connected'")
        page = drv.execute_script(
            "const n = performance.getEntriesByType('navigation')[0];"
            "return [n.transferSize].concat(performance.getEntriesByType('resource')"
            ".filter(r => !r.name.startsWith('ws')).map(r => r.transferSize))")
        drv.execute_script(
            "document.getElementById('program').value = arguments[0];"
            "document.getElementById('start').click()", program)
        _until(drv, "return window.pacerLive.xs.length > 0")
        drv.execute_script("const L = window.pacerLive; L.latencies.length = 0; L.lost = 0;")
        _until(drv, "const L = window.pacerLive; return L.lastFrame && L.lastFrame[1] >= %d"
               % until_ms)
        lat, lost = drv.execute_script(
            "const L = window.pacerLive; return [L.latencies.slice(), L.lost]")
        drv.execute_script("document.getElementById('stop').click()")
    finally:
        close_browser(drv)
        ui.stop()
    lat.sort()
    return {"p95": round(lat[int(0.95 * (len(lat) - 1))], 1),
            "median": round(lat[len(lat) // 2], 1), "n": len(lat), "lost": lost, "page": page}


def figures(work: Path, rate: float = 10.0) -> dict:
    why = chromium_missing()
    if why:
        return {"ui_error": why}
    fast = _session(work / "fast", rate, PROGRAM, SESSION_MS)
    real = _session(work / "real", 1.0, "kegel", REALTIME_MS)
    return {"ui_frame_latency_p95_ms": real["p95"], "ui_frame_latency_median_ms": real["median"],
            "ui_frame_latency_frames": real["n"], "ui_frames_dropped_realtime": real["lost"],
            "ui_frames_dropped": fast["lost"], "ui_frames_accelerated": fast["n"],
            "ui_frame_latency_p95_ms_accelerated": fast["p95"], "ui_session_rate_x": rate,
            "ui_page_bytes": sum(fast["page"]), "ui_page_files": len(fast["page"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=10.0)
    args = ap.parse_args()
    print(json.dumps(figures(Path(tempfile.mkdtemp(prefix="pacer-ui-bench-")), args.rate),
                     indent=1))


if __name__ == "__main__":
    main()
