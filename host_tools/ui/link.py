"""The board connection behind `pacer ui`: one thread owns the host_tools.device.Device (the
serial port is not shared), sends the commands the server queues, and hands every event,
telemetry frame and reply to a callback as it arrives. Frames carry the host's wall-clock time
(ms since 1970) they were read at, so a page on the same computer can measure the latency from
the serial port to drawing them (performance.timeOrigin + performance.now() is the same clock)."""
from __future__ import annotations

import concurrent.futures
import queue
import threading
import time

from host_tools.device import ConnectionLost, Device
from host_tools.errors import CliError


class Link:
    def __init__(self, dev: Device, on_item):
        self.dev = dev
        self.on_item = on_item           # on_item(kind, item, host_ms), called in the thread
        self.jobs: queue.Queue = queue.Queue()
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pacer-ui-link", daemon=True)
        dev.on_line = self._forward

    def start(self):
        self._thread.start()

    def _forward(self, kind, item):
        if kind != "noise":
            self.on_item(kind, item, time.time() * 1000.0)

    def call(self, fn) -> concurrent.futures.Future:
        """Run fn(dev) in the link thread; the future holds its result or its CliError."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        if self.lost is not None:
            fut.set_exception(CliError(self.lost))
        else:
            self.jobs.put((fn, fut))
        return fut

    def send(self, text, timeout=5.0) -> concurrent.futures.Future:
        """The board's reply dict to one command line (ok true or false)."""
        return self.call(lambda dev: dev.send(text, timeout))

    def _run(self):
        while not self._stop.is_set():
            try:
                fn, fut = self.jobs.get_nowait()
            except queue.Empty:
                try:
                    self.dev.poll(0.02)
                except ConnectionLost as e:
                    self._lose("lost the connection to %s (%s); plug the board back in and "
                               "restart `pacer ui`" % (self.dev.port, e))
                    return
                continue
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(self.dev))
            except CliError as e:
                fut.set_exception(e)
            except ConnectionLost as e:
                fut.set_exception(CliError("lost the connection to %s (%s)" % (self.dev.port, e)))
                self._lose(str(e))
                return

    def _lose(self, why):
        self.lost = why
        self.on_item("lost", {"error": why}, time.time() * 1000.0)
        while True:
            try:
                _, fut = self.jobs.get_nowait()
            except queue.Empty:
                break
            fut.set_exception(CliError(why))

    def close(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self.dev.close()
