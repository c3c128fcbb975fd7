"""hardware/ is generated from the board profiles by tools/hardware.py and must be up to date;
its content covers every pin and part of every profile."""
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pacer_hw import profiles

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("hardware_tool", ROOT / "tools" / "hardware.py")
assert spec and spec.loader
hw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hw)


def test_hardware_folder_is_up_to_date():
    bad = hw.stale()
    assert not bad, "hardware/ is stale (%s): run python tools/hardware.py" % ", ".join(bad)


def test_stale_check_catches_an_edit(tmp_path):
    hw.write(tmp_path)
    assert hw.stale(tmp_path) == []
    p = tmp_path / "pico" / "wiring.md"
    p.write_text(p.read_text().replace("GP14", "GP15"))
    assert hw.stale(tmp_path) == ["pico/wiring.md"]
    assert hw.main(["--check", "--out", str(tmp_path)]) == 1


def _pins(prof):
    out = {"motor": prof["motor"], "button": prof["button"]}
    for key in ("led", "pixel", "buzzer"):
        if prof.get(key) is not None:
            out[key] = prof[key]
    for key in ("pressure", "abdominal", "oled"):
        s = prof.get(key)
        if s:
            for k in ("pin", "sck", "dout", "sda", "scl"):
                if k in s:
                    out[key + "." + k] = s[k]
    return out


@pytest.mark.parametrize("board", profiles.NAMES)
def test_every_profile_pin_is_in_the_table_and_the_diagram(board):
    prof = profiles.get(board)
    md = (ROOT / "hardware" / board / "wiring.md").read_text()
    svg_text = (ROOT / "hardware" / board / "wiring.svg").read_text()
    root = ET.fromstring(svg_text)  # well-formed XML
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for what, gpio in _pins(prof).items():
        name = hw.pin_name(prof, gpio)
        assert "| %s" % name in md, (what, name)
        assert name in texts, (what, name)
    # the motor is drawn with its transistor and flyback diode
    assert "2N2222A" in texts and "1N5819" in texts
    for key in ("pressure", "abdominal"):
        s = prof.get(key)
        if s and s["type"] == "mpx5010":
            top, bottom = s["div"]
            assert "%s/%s divider" % (hw.fmt_ohm(top), hw.fmt_ohm(bottom)) in md
            assert hw.fmt_ohm(bottom) in texts


def test_bom_and_readme_have_the_parts_and_the_notes():
    bom = (ROOT / "hardware" / "bom.md").read_text()
    for part in ("MPX5010DP", "MPX5010GP", "MPRLS0025PA00001A", "HX710B", "BMP280", "2N2222A",
                 "AO3400A", "1N5819", "1N4148", "10x2.7 mm", "WS2812B", "SSD1306", "0.96",
                 "B3F-1000", "LiPo"):
        assert part in bom, part
    for p in (profiles.get(n) for n in profiles.NAMES):
        for key in ("pressure", "abdominal"):
            s = p.get(key)
            if s and s["type"] == "mpx5010":
                assert "| `%s` %s | %s ohm | %s ohm |" % (p["name"], key, hw.fmt_ohm(s["div"][0]),
                                                          hw.fmt_ohm(s["div"][1])) in bom
    readme = (ROOT / "hardware" / "README.md").read_text()
    for heading in ("## Probe and tube plumbing", "## Leak check", "## Power notes",
                    "## Safety notes", "Not a medical device", "Stop on pain", "Hygiene",
                    "Flyback", "mains"):
        assert heading in readme, heading
