"""The firmware's own USB layer (pacer_app.usb.Usb), counting what the app hands it; runs in
the MicroPython VM. Kept out of vm_app.py so that its `write` is not counted as a machine call
(vm_app counts calls by name in that file: the host stream and poller stand in for C code)."""
from pacer_app.usb import Usb


class CountingUsb(Usb):
    def __init__(self, select, host):
        Usb.__init__(self, select, host, host)
        self.texts = 0
        self.frames = 0
        self.frame_bytes = 0
        self.max_frame = 0

    def write(self, text):
        self.texts += 1
        return Usb.write(self, text)

    def write_bytes(self, mv):
        n = len(mv)
        self.frames += 1
        self.frame_bytes += n
        if n > self.max_frame:
            self.max_frame = n
        return Usb.write_bytes(self, mv)
