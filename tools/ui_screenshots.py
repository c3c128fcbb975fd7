"""Screenshots of `pacer ui` for the README: the live view during a kegel and a reverse-kegel
session and the progress page, on a virtual board with a simulated person, in headless Chromium.

    .venv/bin/python tools/ui_screenshots.py [--out docs/img] [--rate 10]

Needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver).
"""
import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from ui_browser import UiProcess, browser, chromium_missing, close_browser  # noqa: E402


def until(drv, script, timeout=900):
    WebDriverWait(drv, timeout, poll_frequency=0.2).until(lambda d: d.execute_script(script))


def start(drv, name):
    drv.execute_script("document.querySelector('.tab[data-tab=live]').click();"
                       "document.getElementById('program').value = arguments[0];"
                       "document.getElementById('start').click()", name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--rate", type=float, default=10.0)
    args = ap.parse_args()
    why = chromium_missing()
    if why:
        sys.exit("ui_screenshots: " + why)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ui = UiProcess(Path(tempfile.mkdtemp(prefix="pacer-ui-shots-")), rate=args.rate)
    drv = browser(1280, 1000)
    try:
        ui.ready.wait(600)
        drv.get(ui.url)
        until(drv, "return document.getElementById('conn').textContent === 'board connected'")
        start(drv, "kegel")
        # mid-session: a few reps' verdicts, in a squeeze near its end
        until(drv, "return document.querySelectorAll('#verdicts li').length >= 4 && "
                   "document.getElementById('phase').textContent === 'Squeeze' && "
                   "document.getElementById('countdown').textContent === '1'")
        drv.save_screenshot(str(out / "ui-live-kegel.png"))
        drv.set_window_size(412, 915)        # a phone held upright
        until(drv, "return document.getElementById('phase').textContent === 'Squeeze' && "
                   "document.getElementById('countdown').textContent === '2'")
        drv.save_screenshot(str(out / "ui-live-phone.png"))
        drv.set_window_size(1280, 1000)
        until(drv, "return !document.getElementById('summary').hidden")
        start(drv, "reverse-kegel")
        # a few drops' verdicts, during a later drop
        until(drv, "return document.querySelectorAll('#verdicts li').length >= 3 && "
                   "document.getElementById('phase').textContent === 'Drop: let go' && "
                   "document.getElementById('countdown').textContent === '2'")
        drv.save_screenshot(str(out / "ui-live-reverse-kegel.png"))
        until(drv, "return !document.getElementById('summary').hidden")
        start(drv, "flicks")
        until(drv, "return !document.getElementById('summary').hidden")
        drv.execute_script("document.querySelector('.tab[data-tab=progress]').click()")
        until(drv, "return document.querySelectorAll('#sessions-table tbody tr').length >= 3")
        drv.execute_script("window.scrollTo(0, 0)")
        drv.save_screenshot(str(out / "ui-progress.png"))
        print("screenshots in %s" % out)
    finally:
        close_browser(drv)
        ui.stop()


if __name__ == "__main__":
    main()
