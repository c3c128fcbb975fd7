"""USB serial protocol (pacer_app.protocol): every command against a fake device, framing and
garbage, absurd values, inject mode, telemetry frames. The scenarios run on CPython and inside
the MicroPython VM; the VM also shows that reading bytes and framing telemetry allocate nothing,
and that replies are byte-identical on both runtimes."""
import pytest

import protocol_cases
from vm_cases import case_files, failures, run_cases


@pytest.mark.parametrize("name", protocol_cases.CASES)
def test_protocol_on_cpython(name):
    protocol_cases.run(name)


def test_protocol_in_the_micropython_vm(mpvm):
    results = run_cases(mpvm, "protocol_cases")
    assert failures(results, protocol_cases.CASES) == {}


ALLOC = """
import gc
from pacer_app.protocol import Protocol
from pacer_app.telemetry import Telemetry

class Dev:
    def status(self):
        return {"state": "idle"}

out = []
p = Protocol(Dev(), out.append)

def write(mv):
    return len(mv)

def ready():
    return True

tel = Telemetry(write, ready)
chunk = bytearray(b"status status \\x00\\xff\\xc3\\x28 garbage\\t" * 3)
view = memoryview(chunk)
raw = b"sessions get 12 and a line that never ends"

def measure(fn, n):
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for i in range(n):
        fn(i)
    used = gc.mem_alloc() - a
    gc.enable()
    return used

def feed_bytearray(i):
    p.feed(chunk, len(chunk))

def feed_memoryview(i):
    p.feed(view, 20)

def feed_bytes(i):
    p.feed(raw)

def frame(i):
    tel.frame(i & 255, i * 20, 1500 - i * 40, 2400, i >> 4, i & 31)

def frame_abd(i):
    tel.frame(i & 255, i * 20, -1500 - i, 2400, -1, i & 31, 900 + i)

def send(i):
    tel.send(i * 20, 1500, 2400, 3, 1)

def send_abd(i):
    tel.send(i * 20, 1500, 2400, 3, 1, 910)

for name, fn in (("feed_bytearray", feed_bytearray), ("feed_memoryview", feed_memoryview),
                 ("feed_bytes", feed_bytes), ("frame", frame), ("frame_abd", frame_abd),
                 ("send", send), ("send_abd", send_abd)):
    print(name, measure(fn, 500))
print("pending", p._n, p._over, len(out))
p.feed(b"\\n")

def status_line(i):
    p.feed(b"status\\n")

print("status_line", measure(status_line, 1))
print("replies", len(out))
"""


def test_reading_bytes_and_framing_telemetry_allocate_nothing_in_the_vm(mpvm):
    res = mpvm.check(ALLOC)
    got = dict(line.split(" ", 1) for line in res.stdout.splitlines())
    for name in ("feed_bytearray", "feed_memoryview", "feed_bytes", "frame", "frame_abd", "send",
                 "send_abd"):
        assert got[name] == "0", "%s allocated %s bytes over 500 calls" % (name, got[name])
    # 500 chunks without a newline: one overlong pending line, nothing answered yet
    assert got["pending"] == "512 True 0"
    # a complete line may allocate (decoding, the reply); it is answered with exactly one error
    assert got["replies"] == "2" and 0 < int(got["status_line"]) < 2048


SCRIPT = ("hello\nstatus\nprograms list\nprograms show kegel\nstart nope\nconfig get\n"
          "config set loop_hz 1e999\nconfig set vibration_pct 40\nsessions list\nsessions get 2\n"
          "inject on\nS 10 20 30\nS 5 1\nS 20 1e3\nfrobnicate\n" + "x" * 600 + "\n"
          "programs push " + protocol_cases.json.dumps(protocol_cases.KEGEL) + "\n")


def test_replies_are_byte_identical_on_both_runtimes(mpvm):
    host = protocol_cases.Host()
    host.send(SCRIPT)
    here = "".join(host.out)
    res = mpvm.check("import protocol_cases\nh = protocol_cases.Host()\nh.send(%r)\n"
                     "print(''.join(h.out), end='')" % SCRIPT,
                     files=case_files("protocol_cases"),
                     path=["/t"])
    assert res.stdout == here


def test_the_parser_in_docs_protocol_md_agrees_with_the_frames():
    import pathlib
    import re

    from host_tools.frames import parse_frame
    from pacer_app.telemetry import Telemetry
    doc = (pathlib.Path(__file__).parent.parent / "docs" / "protocol.md").read_text()
    code = re.search(r"```python\n(def parse_frame.*?)```", doc, re.S)
    assert code, "docs/protocol.md lost its parser example"
    ns = {}
    exec(code.group(1), ns)
    tel = Telemetry()
    for s in protocol_cases.SAMPLES:
        line = str(bytes(tel.frame(*s)), "ascii")
        assert ns["parse_frame"](line) == parse_frame(line) == s
    assert ns["parse_frame"]("T07003039,05df,0992,003,03,038e\n") == (7, 12345, 1503, 2450, 3, 3,
                                                                     910)
