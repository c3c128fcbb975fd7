// The emulated chip's surroundings: the vdev World of the wasm virtual board (host_tools/vdev,
// wired by vboard/py/vb_wiring.py for the board profile, with the persona if one is given),
// run in a MicroPython wasm VM inside this process and asked by the chip's peripherals:
// - ADC: every conversion of channels 0-3 (GP26-29) takes the World's voltage at that pin
//   (the MPX5010 pelvic and abdominal outputs through their dividers, VSYS/3) as a 12-bit code.
// - Inputs: a pin the World drives (the button, when a test presses it) reads that level; an
//   undriven input reads its pull: high with the pull-up, low with the pull-down (rp2040js
//   leaves an undriven pin low, so a pulled-up button would read pressed).
// - Outputs: the motor, LED and buzzer pins are sampled after every slice of emulated time:
//   as PWM (function 4) their duty as duty_u16 and frequency, as SIO outputs their level; each
//   change goes to the World ("motor", "motor.hz", "led.pin", ...), which the person watches
//   and the --record file keeps.
// - I2C and WS2812 (wires.mjs): the World's I2C devices (the profile's MPRLS, BMP280, SSD1306)
//   answer on the I2C controllers and on bit-banged pins (the port's scan()), with bus timing;
//   OLED frames are recorded as "oled" like on the wasm board. WS2812 frames are decoded from
//   the pin's edges and recorded as "pixel<pin>" (labelled "pixel" on a profile with a pixel,
//   which the person watches).
// Not wired: the HX710B (nothing answers on its two pins); a WS2812 driven by PIO
// (rp2.StateMachine: rp2040js runs PIO untimed, so its pulse widths mean nothing; the port's
// neopixel bit-bangs on the SIO, which is what is decoded).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { Wires } from "./wires.mjs";

const FUNC_PWM = 4;
const FUNC_SIO = 5;
const ADC_PIN0 = 26;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..", "..");
const VM_MJS = path.join(ROOT, "node_modules", "@micropython", "micropython-webassembly-pyscript",
  "micropython.mjs");

class Recorder {
  constructor(file) {
    this.fd = file ? fs.openSync(file, "a") : -1;
    this.lines = [];
    this.last = Date.now();
  }

  add(t, ch, v) {
    if (this.fd < 0) return;
    this.lines.push(`{"t_ms":${t},"ch":${JSON.stringify(ch)},"v":${v}}\n`);
    if (this.lines.length > 1000 || Date.now() - this.last > 1000) this.flush();
  }

  flush() {
    if (this.fd >= 0 && this.lines.length) fs.writeSync(this.fd, this.lines.join(""));
    this.lines = [];
    this.last = Date.now();
  }
}

export class World {
  // clockUs(): virtual microseconds since power-on (continues over reboots).
  static async create(cfg, clockUs, log) {
    const w = new World(cfg, clockUs, log);
    await w.load();
    return w;
  }

  constructor(cfg, clockUs, log) {
    this.cfg = cfg;
    this.clockUs = clockUs;
    this.log = log;
    this.recorder = new Recorder(cfg.record);
    this.chip = null;
    this.py = null;
    this.watched = [];
  }

  async load() {
    const { loadMicroPython } = await import(pathToFileURL(VM_MJS).href);
    const mp = await loadMicroPython({ heapsize: 2 * 1024 * 1024, linebuffer: true,
      stdout: (t) => this.log("world: " + t), stderr: (t) => this.log("world: " + t) });
    const copy = (src, dst, all) => {
      mp.FS.mkdirTree(dst);
      for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
        const p = path.join(src, ent.name);
        if (ent.isDirectory() && all && !ent.name.startsWith("_") && !ent.name.startsWith(".")) {
          copy(p, dst + "/" + ent.name, all);
        } else if (ent.isFile() && ent.name.endsWith(".py") && (all || ent.name !== "__init__.py")) {
          mp.FS.writeFile(dst + "/" + ent.name, fs.readFileSync(p));
        }
      }
    };
    copy(path.join(ROOT, "host_tools", "vdev"), "/w/vdev", false);
    copy(path.join(ROOT, "host_tools", "vboard", "py"), "/w/lib", false);
    copy(path.join(ROOT, "host_tools", "sim"), "/w/lib/sim", true);
    copy(path.join(ROOT, "firmware", "pacer"), "/w/lib/pacer", true);
    const nowUs = () => Math.floor(this.clockUs());
    mp.registerJsModule("_vbhost", {
      clock_ms: () => Math.floor(nowUs() / 1000),
      clock_us: () => nowUs() % 1000,
      record: (t, ch, v) => this.recorder.add(t, ch, v),
      log: (text) => this.log(text),
      idle: () => {},
    });
    mp.runPython("import sys\nsys.path[:0] = ['/w/lib', '/w/vdev']\nimport vb_chip\n");
    this.py = mp.pyimport("vb_chip");
    const prof = this.cfg.profile;
    this.py.build(JSON.stringify({ profile: prof, seed: this.cfg.seed, boot_cause: 1,
      persona: this.cfg.persona }));
    this.watched = [];
    for (const key of ["motor", "led", "buzzer"]) {
      if (prof[key] !== null && prof[key] !== undefined) {
        this.watched.push({ pin: prof[key], pwm: "pwm" + prof[key], sio: "pin" + prof[key],
          duty: -1, hz: -1, level: -1 });
      }
    }
    this.button = prof.button;
  }

  attach(chip) {
    this.chip = chip;
    chip.adc.onADCRead = (channel) => {
      const code = channel < 4 ? this.py.adc_code(ADC_PIN0 + channel) : 0x36c; // ~27 C sensor
      chip.adc.completeADCRead(code, false);
    };
    this.levels = new Array(chip.gpio.length).fill(-1);
    this.wires = new Wires(chip, this.py);
    // A pull takes effect when the firmware sets it (the pad write), not a slice later. An I2C
    // line's level is the bus's (wires.mjs), not its pull's.
    for (const pin of chip.gpio) {
      pin.addListener(() => {
        if (!this.wires.changed(pin)) this.drive(pin);
      });
      if (!this.wires.changed(pin)) this.drive(pin);
    }
    for (const o of this.watched) {
      o.duty = -1;
      o.hz = -1;
      o.level = -1;
    }
  }

  pwmState(pin) {
    const chip = this.chip;
    const ch = chip.pwm.channels[(pin >> 1) & 7];
    if (!(ch.csr & 1)) return [0, 0];
    const top = ch.top + 1;
    const level = pin & 1 ? ch.cc >>> 16 : ch.cc & 0xffff;
    const duty = Math.round((Math.min(level, top) * 65535) / top);
    const div = ch.div / 16 || 256;
    const hz = Math.round(chip.clkSys / div / top / (ch.csr & 2 ? 2 : 1));
    return [duty, hz];
  }

  // The level at an input: the World's (the button), else its pull; a floating pin keeps
  // whatever it read last.
  drive(pin) {
    if (pin.outputEnable) return;
    let level = pin.index === this.button ? this.py.input_level(pin.index) : null;
    if (level === null || level === undefined) {
      if (pin.pullupEnabled) level = 1;
      else if (pin.pulldownEnabled) level = 0;
      else return;
    }
    if (this.levels[pin.index] !== level) {
      this.levels[pin.index] = level;
      pin.setInputValue(!!level);
    }
  }

  update() {
    const chip = this.chip;
    for (const o of this.watched) {
      const pin = chip.gpio[o.pin];
      const fn = pin.functionSelect;
      if (fn === FUNC_PWM) {
        const [duty, hz] = this.pwmState(o.pin);
        if (hz !== o.hz && hz > 0) this.py.output(o.pwm + ".hz", hz);
        if (duty !== o.duty) this.py.output(o.pwm, duty);
        o.duty = duty;
        o.hz = hz;
      } else if (fn === FUNC_SIO && pin.outputEnable) {
        const level = pin.outputValue ? 1 : 0;
        if (level !== o.level) this.py.output(o.sio, level);
        o.level = level;
      }
    }
    if (this.button !== null && this.button !== undefined) this.drive(chip.gpio[this.button]);
    this.wires.update();
    if (Date.now() - this.recorder.last > 1000) this.recorder.flush();
  }
}
