"""Helpers for the `pacer ui` browser tests: a `pacer ui --vboard` process and a headless Debian
Chromium driven by selenium (no browser downloads: /usr/bin/chromium and its chromedriver)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return ("%s is missing: install Debian's Chromium with `apt-get install chromium "
                    "chromium-driver` (CI does)" % path)
    return None


def browser(width=1280, height=900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="pacer-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument("--user-data-dir=" + profile)
    opts.add_argument("--window-size=%d,%d" % (width, height))
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv._pacer_profile = profile    # removed by close_browser
    return drv


def close_browser(drv):
    try:
        drv.quit()
    finally:
        shutil.rmtree(drv._pacer_profile, ignore_errors=True)


class UiProcess:
    """`pacer ui --vboard --no-browser` in a subprocess; .url from its first line, .lines all
    of its output so far."""

    def __init__(self, out: Path, rate: float = 5.0, persona: str = "typical", seed: int = 1):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "host_tools.cli", "ui", "--vboard", "--no-browser",
             "--http-port", "0", "--rate", str(rate), "--persona", persona, "--seed", str(seed),
             "--out", str(out)], cwd=str(ROOT), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        self.lines: list[str] = [self.url]
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        base, _, self.token = self.url.partition("/#token=")
        self.base = base
        self.port = int(base.rsplit(":", 1)[1])

    def _read(self):
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if "board ready" in line or "error" in line:
                self.ready.set()
        self.ready.set()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
