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


# ---- the drawing's connections against the wiring table -----------------------------------

SVG = "{http://www.w3.org/2000/svg}"


class _Nets:
    """Electrical nets of a wiring.svg read from its geometry: every <line> joins its two end
    points; a resistor's zigzag joins nothing (its two ends are its terminals); a ground
    symbol's terminal is the middle of its top bar."""

    def __init__(self, root):
        self.parent = {}
        self.resistors = []     # (label, end a, end b)
        self.grounds = []       # terminal points
        self.board_pins = []    # (label text, point)
        self.part_pins = []     # (part title, pin label, point)
        skip = set()
        for g in root.iter(SVG + "g"):
            cls = g.get("class")
            if cls == "resistor":
                pts = g.find(SVG + "polyline").get("points").split()
                a, b = (tuple(int(v) for v in p.split(",")) for p in (pts[0], pts[-1]))
                self.resistors.append((_text(g), a, b))
                self.find(a), self.find(b)
            elif cls == "ground":
                lines = g.findall(SVG + "line")
                skip.update(id(x) for x in lines)
                top = [int(lines[0].get(k)) for k in ("x1", "y1", "x2", "y2")]
                p = ((top[0] + top[2]) // 2, top[1])
                self.grounds.append(p)
                self.find(p)
            elif cls == "board-pin":
                c = g.find(SVG + "circle")
                self.board_pins.append((_text(g), (int(c.get("cx")), int(c.get("cy")))))
            elif cls == "part":
                title = _text(g.find(SVG + "text"))
                for pin in g.iter(SVG + "g"):
                    if pin.get("class") == "part-pin":
                        c = pin.find(SVG + "circle")
                        self.part_pins.append((title, _text(pin),
                                               (int(c.get("cx")), int(c.get("cy")))))
        wires = [((int(ln.get("x1")), int(ln.get("y1"))), (int(ln.get("x2")), int(ln.get("y2"))))
                 for ln in root.iter(SVG + "line") if id(ln) not in skip]
        for a, b in wires:
            self.union(a, b)
        # a wire ending on another wire joins it (a T)
        for a, b in wires:
            for end in (a, b):
                for c, d in wires:
                    if _inside(end, c, d):
                        self.union(end, c)

    def find(self, p):
        self.parent.setdefault(p, p)
        while self.parent[p] != p:
            p = self.parent[p]
        return p

    def union(self, a, b):
        self.parent[self.find(a)] = self.find(b)

    def net(self, p):
        """The net of a drawn point; a point no wire touches is a net with nothing on it."""
        return self.find(p) if p in self.parent else ("open", p)

    def resistors_between(self, a, b):
        na, nb = self.net(a), self.net(b)
        return [lab for lab, x, y in self.resistors
                if {self.net(x), self.net(y)} == {na, nb} and na != nb]

    def grounded(self, p):
        return any(self.net(g) == self.net(p) for g in self.grounds)

    def resistor_to_ground(self, p):
        """Labels of the resistors with one end on p's net and the other on a ground."""
        out = []
        for lab, x, y in self.resistors:
            for u, v in ((x, y), (y, x)):
                if self.net(u) == self.net(p) and self.grounded(v):
                    out.append(lab)
        return out


def _inside(p, a, b):
    """p lies on the segment a-b, strictly between its ends (lines here are level or upright)."""
    if p in (a, b):
        return False
    (x, y), (x1, y1), (x2, y2) = p, a, b
    if x1 == x2 == x:
        return min(y1, y2) < y < max(y1, y2)
    if y1 == y2 == y:
        return min(x1, x2) < x < max(x1, x2)
    return False


def _text(el):
    return "".join(el.itertext()).strip()


def _table(md):
    """(part, part pin, board pin) of each wiring.md row on a GPIO."""
    rows = []
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("Part", "---"):
            rows.append(tuple(cells[:3]))
    return rows


def _check_drawing(md, svg_text):
    """Problems where the drawing's connections differ from the table's (empty when they agree)."""
    nets = _Nets(ET.fromstring(svg_text))
    problems = []
    drawn = 0
    for part, ppin, bpin in _table(md):
        if bpin in ("3V3", "GND", "5V (VBUS/VIN)"):
            continue            # supplies are named in the drawing's notes, not wired
        boards = [p for label, p in nets.board_pins if label.split("  ")[0] == bpin]
        parts = [p for title, label, p in nets.part_pins if title == part and label == ppin]
        if not boards or not parts:
            problems.append("%s %s / %s not drawn" % (part, ppin, bpin))
            continue
        drawn += 1
        # the row's board pin and part pin are drawn side by side (same y)
        pairs = [(b, q) for b in boards for q in parts if b[1] == q[1]]
        if len(pairs) != 1:
            problems.append("%s %s: no single drawn wire row for %s" % (part, ppin, bpin))
            continue
        b, q = pairs[0]
        if ppin.startswith("Vout via"):
            top, bottom = ppin.split("via ")[1].split(" ")[0].split("/")
            # Vout -> top -> tap (= the ADC pin's net) -> bottom -> GND
            if nets.resistors_between(b, q) != [top]:
                problems.append("%s: %s is not joined to Vout through the %s resistor"
                                % (part, bpin, top))
            if nets.resistor_to_ground(b) != [bottom]:
                problems.append("%s: %s is not the divider tap (%s from it to GND)"
                                % (part, bpin, bottom))
            if nets.grounded(q) or nets.resistor_to_ground(q):
                problems.append("%s: Vout is loaded straight to GND" % part)
        elif " via " in ppin:
            r = ppin.split("via ")[1].split(" ")[0]
            if nets.resistors_between(b, q) != [r]:
                problems.append("%s %s: not joined to %s through %s" % (part, ppin, bpin, r))
        elif nets.net(b) != nets.net(q):
            problems.append("%s %s: not wired to %s" % (part, ppin, bpin))
    if not drawn:
        problems.append("no GPIO row of the table is drawn")
    return problems


@pytest.mark.parametrize("board", profiles.NAMES)
def test_the_drawing_wires_what_the_table_says(board):
    md = (ROOT / "hardware" / board / "wiring.md").read_text()
    svg_text = (ROOT / "hardware" / board / "wiring.svg").read_text()
    assert _check_drawing(md, svg_text) == []


def test_the_drawing_check_catches_a_misplaced_tap_or_pin(monkeypatch):
    """The check above goes red for the divider's tap on the sensor side (the old drawing) and
    for a wire drawn from the wrong board pin."""
    prof = profiles.get("pico")
    md = hw.wiring_md(prof)
    assert _check_drawing(md, hw.wiring_svg(prof)) == []
    # the tap on the sensor side of the top resistor, as drawn before: GP26 - 10k - tap - Vout,
    # 20k from that tap to GND (a T onto the Vout wire)
    draw = hw._divider_drawing

    def on_the_sensor_side(*args):
        monkeypatch.setattr(hw, "TAP_X", 470)
        try:
            return draw(*args)
        finally:
            monkeypatch.setattr(hw, "TAP_X", 330)

    monkeypatch.setattr(hw, "_divider_drawing", on_the_sensor_side)
    broken = _check_drawing(md, hw.wiring_svg(prof))
    assert any("not the divider tap" in p for p in broken), broken
    assert any("Vout is loaded" in p for p in broken), broken
    monkeypatch.undo()
    # a board pin label swapped with another row's
    bad = hw.wiring_svg(prof).replace(">GP14 ", ">GPX ").replace(">GP20 ", ">GP14 ")
    assert any("motor" in p or "button" in p for p in _check_drawing(md, bad))
