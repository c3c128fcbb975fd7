"""What ships to the board: no code that nothing calls, one definition per shared limit.

Every byte of firmware/ is copied to a board with a few hundred kB of flash and parsed into its
RAM, so a method nothing calls is a cost with no use (and a second copy of a limit is a bug
waiting for one of them to change)."""
import hw_env  # noqa: F401 - firmware/ and host_tools/vdev/ (framebuf) on sys.path

# isort: split
import ast
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"
SHELL = ("pacer_hw", "pacer_app")   # firmware/pacer/ (the engine) has its own review


def _trees():
    return {p: ast.parse(p.read_text()) for p in sorted(FIRMWARE.rglob("*.py"))}


def _names_used(trees):
    used = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                used.update(node.value.replace(".", " ").split())   # getattr(x, "name")
    return used


def test_no_method_or_function_of_the_board_shell_goes_unused():
    trees = _trees()
    used = _names_used(trees)
    unused = []
    for path, tree in trees.items():
        if path.relative_to(FIRMWARE).parts[0] not in SHELL:
            continue
        for node in tree.body:
            funcs = [(None, node)] if isinstance(node, ast.FunctionDef) else []
            if isinstance(node, ast.ClassDef):
                funcs = [(node.name, f) for f in node.body if isinstance(f, ast.FunctionDef)]
            for cls, f in funcs:
                if f.name.startswith("__") or f.name in ("start", "motor_off"):
                    continue   # dunders, and main.py's / boot.py's entry points
                if f.name not in used:
                    unused.append("%s %s.%s" % (path.name, cls or "", f.name))
    assert unused == [], unused


def test_the_dead_code_found_in_review_is_gone():
    from pacer_app.usb import Usb
    from pacer_hw import profiles
    from pacer_hw.bmp280 import BMP280
    from pacer_hw.button import Button
    from pacer_hw.led import Led
    from pacer_hw.pixel import Pixel
    from pacer_hw.screen import SSD1306
    for cls, name in ((Led, "level"), (Button, "held_ms"), (Pixel, "brightness"),
                      (SSD1306, "power"), (SSD1306, "contrast"), (BMP280, "temperature_c100"),
                      (Usb, "pending"), (Usb, "room")):
        assert not hasattr(cls, name), (cls.__name__, name)
    import pacer_hw.led as led
    assert not hasattr(led, "_GAMMA")   # pacer.cue holds the one gamma table
    for name in profiles.NAMES:
        adc = profiles.get(name)["adc"]
        assert set(adc) == {"method", "full_mv", "atten"}, (name, adc)   # each one read


def test_shared_limits_are_defined_once():
    seen = {}
    for path, tree in _trees().items():
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id.lstrip("_")
                if name in ("MAX_ID", "CP_LIMIT"):
                    seen.setdefault(name, []).append(path.relative_to(FIRMWARE).as_posix())
    assert seen == {"MAX_ID": ["pacer_app/protocol.py"], "CP_LIMIT": ["pacer_app/protocol.py"]}


def test_each_board_gets_only_its_own_profile_without_host_fields(tmp_path):
    from host_tools.commands import flash
    from pacer_hw import profiles
    for name in profiles.NAMES:
        ns = {}
        exec(flash.board_profile(profiles.get(name)), ns)   # the source the build compiles
        want = {k: v for k, v in profiles.get(name).items() if k not in flash.HOST_KEYS}
        assert ns["get"](name) == want
        for key in flash.HOST_KEYS:   # read by the host (flash, docs, virtual board) only
            assert key not in ns["get"](name)
    files = flash.build(profiles.get("esp32"), str(tmp_path))
    assert len(files["/pacer_hw/profiles.mpy"]) < 600   # the five profiles take 1.7 kB


def test_the_firmware_reads_no_profile_field_that_the_build_leaves_out():
    # the supervisor once read profile["chip"] after flash had stripped it: a KeyError in the
    # Ctrl-C path left the rp2 watchdog running under the REPL
    import pathlib

    from host_tools.commands import flash
    root = pathlib.Path(__file__).resolve().parent.parent / "firmware"
    for path in root.rglob("*.py"):
        text = path.read_text()
        for key in flash.HOST_KEYS:
            for use in ('profile["%s"]' % key, "profile.get(\"%s\"" % key,
                        "profile['%s']" % key):
                assert use not in text, (path.name, use)
