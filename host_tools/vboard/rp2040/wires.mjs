// The World's I2C devices and WS2812 pixels on the emulated chip's pins (used by world.mjs).
//
// I2C reaches the vdev devices of the World's buses (vb_chip.py: i2c_start/i2c_write/i2c_read/
// i2c_unread), by either of the two ways the rp2 port drives a bus:
// - The I2C controllers (pins in function 3): rp2040js hands over every start, address, byte
//   and stop. A bus is the World's one whose SCL and SDA pins are both on that controller.
//   Each step completes after its bus time (9 SCL periods a byte, one for start and stop, the
//   period from the SCL high/low counts the SDK set), so a 1 KB OLED frame keeps the core busy
//   for ~23 ms at 400 kHz as on a Pico.
// - Bit-banged on plain GPIO (function 5): the port's I2C.scan() and any zero-length write go
//   through its soft I2C on the same pins (the controller cannot send one); SoftI2C does too.
//   The lines are open-drain: low while the chip drives them low, else high (the modules'
//   pull-ups) unless the slave holds SDA for an ACK or a 0 bit. Start, stop, address, ACK and
//   bytes both ways are decoded from the pin changes, and the lines' levels are what the pins
//   read. No clock stretching: the devices answer at once.
// A write's bytes go to the device at its stop or repeated start, as one i2c_write. A read
// fetches READ_AHEAD bytes at its first byte (the chip asks for bytes one at a time and the
// length is not known then) and hands back the ones not clocked out. Bus faults (nack,
// bus_error, bus_held_low) read as a NACK of the address.
//
// WS2812: the rp2 port's neopixel bit-bangs the pin with SysTick-timed pulses
// (machine.bitstream). On every pin that the SIO drives as an output, a high pulse of at most
// MAX_HIGH_NS is a bit (1 when longer than ONE_NS, the pixel's own sampling point), 8 bits a
// byte; the line low for RESET_NS latches the frame, which goes to the World as the vdev
// NeoPixel's write() (channel "pixel<pin>", 0xRRGGBB from the GRB wire order). A longer pulse
// (an LED, a slow output) drops what was collected.

const FUNC_I2C = 3;
const FUNC_SIO = 5;
const READ_AHEAD = 32;
const MAX_HIGH_NS = 2000;
const ONE_NS = 600;
const RESET_NS = 50000;
const MAX_BYTES = 3 * 1024; // a longer run of short pulses without a latch is not a strip
const R_TX_EMPTY = 1 << 4;

function hex(bytes) {
  return Buffer.from(bytes).toString("hex");
}

// One transaction with one device: the bytes written so far, or the read-ahead being clocked out.
class Transfer {
  constructor(py, bus, addr, read) {
    this.py = py;
    this.bus = bus;
    this.addr = addr;
    this.read = read;
    this.out = [];
    this.ahead = null;
    this.pos = 0;
  }

  readByte() {
    if (this.ahead === null || this.pos >= this.ahead.length) {
      this.ahead = Buffer.from(this.py.i2c_read(this.bus, this.addr, READ_AHEAD), "hex");
      this.pos = 0;
    }
    return this.ahead[this.pos++];
  }

  end() {
    if (this.read) {
      if (this.ahead !== null && this.pos < this.ahead.length) {
        this.py.i2c_unread(this.bus, this.addr, this.ahead.length - this.pos);
      }
    } else {
      this.py.i2c_write(this.bus, this.addr, hex(this.out));
    }
  }
}

function start(py, bus, addr, read) {
  return py.i2c_start(bus, addr) ? new Transfer(py, bus, addr, read) : null;
}

// rp2040js's I2C controller, answered from the World with bus timing.
function hookController(chip, py, index, buses) {
  const i2c = chip.i2c[index];
  let t = null;
  let pending = null;
  const alarm = chip.clock.createAlarm(() => {
    const f = pending;
    pending = null;
    f();
  });
  const after = (bits, f) => {
    pending = f;
    const ns = ((i2c.sclHighPeriod + i2c.sclLowPeriod) * 1e9) / chip.clkSys;
    alarm.schedule(bits * ns);
  };
  const finish = () => {
    if (t !== null) t.end();
    t = null;
  };
  const busOf = () => {
    for (let b = 0; b < buses.length; b++) {
      const [scl, sda] = buses[b];
      const on = (p) => chip.gpio[p].functionSelect === FUNC_I2C && ((p >> 1) & 1) === index;
      if (on(scl) && on(sda)) return b;
    }
    return -1;
  };
  i2c.onStart = () => {
    finish(); // a repeated start ends the write before it (readfrom_mem's register number)
    after(1, () => i2c.completeStart());
  };
  i2c.onConnect = (addr, mode) => {
    const bus = busOf();
    t = bus < 0 ? null : start(py, bus, addr, mode === 1);
    after(9, () => {
      i2c.completeConnect(t !== null);
      // A NACK flushes the TX FIFO; TX_EMPTY is a level on the chip ("at or below IC_TX_TL"),
      // which rp2040js only raises when it takes a command, and the SDK waits for it before it
      // looks at the abort: without this a NACK reads as ETIMEDOUT, not the port's EIO.
      if (i2c.txFIFO.itemCount <= i2c.txThreshold) i2c.setInterrupts(R_TX_EMPTY);
    });
  };
  i2c.onWriteByte = (value) => {
    t.out.push(value);
    after(9, () => i2c.completeWrite(true));
  };
  i2c.onReadByte = () => {
    const v = t.readByte();
    after(9, () => i2c.completeRead(v));
  };
  i2c.onStop = () => {
    finish();
    after(1, () => i2c.completeStop());
  };
}

// A bit-banged bus on two GPIOs: decodes the master from the pins and drives SDA as the slave.
class SoftBus {
  constructor(chip, py, bus, scl, sda) {
    this.chip = chip;
    this.py = py;
    this.bus = bus;
    this.sclPin = chip.gpio[scl];
    this.sdaPin = chip.gpio[sda];
    this.scl = 1;
    this.sda = 1;
    this.hold = false; // the slave pulls SDA low
    this.state = "idle"; // addr | write | read | ignore
    this.bits = 0; // clock pulses into the current byte (9 with the ACK)
    this.byte = 0;
    this.t = null;
    this.acked = false; // the master's ACK of a read byte
    this.set();
  }

  // Open drain: a line is low while the chip drives it low (any function that drives it).
  driven(pin) {
    return pin.outputEnable && !pin.outputValue ? 0 : 1;
  }

  set() {
    this.sclPin.setInputValue(!!this.scl);
    this.sdaPin.setInputValue(!!(this.sda && !this.hold));
  }

  end() {
    if (this.t !== null) this.t.end();
    this.t = null;
  }

  update() {
    const scl = this.driven(this.sclPin);
    const sdaM = this.driven(this.sdaPin);
    const line = sdaM && !this.hold ? 1 : 0;
    const was = this.sda && !this.hold ? 1 : 0;
    const sclWas = this.scl;
    this.scl = scl;
    this.sda = sdaM;
    if (scl && sclWas && line !== was) {
      if (!line) {
        this.end(); // start, or a repeated start that ends the write before it
        this.state = "addr";
      } else {
        this.end(); // stop
        this.state = "idle";
      }
      this.bits = 0;
      this.byte = 0;
      this.hold = false;
    } else if (scl && !sclWas) {
      this.rise(line);
    } else if (!scl && sclWas) {
      this.fall();
    }
    this.set();
  }

  rise(sda) {
    if (this.state === "idle" || this.state === "ignore") return;
    this.bits++;
    if (this.bits <= 8 && this.state !== "read") this.byte = ((this.byte << 1) | sda) & 0xff;
    if (this.bits === 9 && this.state === "read") this.acked = !sda;
  }

  fall() {
    const s = this.state;
    if (s === "idle" || s === "ignore") return;
    if (this.bits === 8) {
      this.hold = false;
      if (s === "addr") {
        this.t = start(this.py, this.bus, this.byte >> 1, !!(this.byte & 1));
        this.hold = this.t !== null;
      } else if (s === "write") {
        this.t.out.push(this.byte);
        this.hold = true;
      }
      return; // the ACK clock (for a read: the master's)
    }
    if (this.bits === 9) {
      this.bits = 0;
      this.hold = false;
      if (s === "addr") {
        this.state = this.t === null ? "ignore" : this.t.read ? "read" : "write";
        if (this.state === "read") this.nextByte();
      } else if (s === "read") {
        if (this.acked) this.nextByte();
        else this.state = "ignore";
      }
      this.byte = 0;
      return;
    }
    if (s === "read") this.hold = !((this.byte >> (7 - this.bits)) & 1);
  }

  nextByte() {
    this.byte = this.t.readByte();
    this.hold = !(this.byte & 0x80);
  }
}

class PixelLine {
  constructor() {
    this.reset();
    this.rise = -1;
    this.fell = -1;
  }

  reset() {
    this.bytes = [];
    this.cur = 0;
    this.bits = 0;
  }

  edge(high, ns, report) {
    if (high) {
      this.poll(ns, report);
      this.rise = ns;
      return;
    }
    if (this.rise < 0) return;
    const width = ns - this.rise;
    this.rise = -1;
    this.fell = ns;
    if (width > MAX_HIGH_NS) {
      this.reset();
      return;
    }
    this.cur = (this.cur << 1) | (width > ONE_NS ? 1 : 0);
    if (++this.bits === 8) {
      if (this.bytes.length >= MAX_BYTES) this.bytes = [];
      this.bytes.push(this.cur);
      this.cur = 0;
      this.bits = 0;
    }
  }

  // The line has stayed low for the reset time: the pixels show what they received.
  poll(ns, report) {
    if (this.rise >= 0 || this.bytes.length === 0 || ns - this.fell < RESET_NS) return;
    if (this.bits === 0 && this.bytes.length % 3 === 0) report(this.bytes);
    this.reset();
  }
}

export class Wires {
  constructor(chip, py) {
    this.chip = chip;
    this.py = py;
    const spec = py.i2c_buses();
    this.buses = spec ? spec.split(";").map((b) => b.split(",").map(Number)) : [];
    this.soft = new Map(); // pin -> SoftBus
    this.busPins = new Set();
    for (let b = 0; b < this.buses.length; b++) {
      const [scl, sda] = this.buses[b];
      const sb = new SoftBus(chip, py, b, scl, sda);
      this.soft.set(scl, sb);
      this.soft.set(sda, sb);
      this.busPins.add(scl);
      this.busPins.add(sda);
    }
    for (const index of [0, 1]) hookController(chip, py, index, this.buses);
    this.pixels = chip.gpio.map(() => new PixelLine());
  }

  // Called on every change of a pin's drive; true when the pin is an I2C line (its level is
  // the bus's, not its pull's).
  changed(pin) {
    const sb = this.soft.get(pin.index);
    if (sb !== undefined) {
      sb.update();
      return true;
    }
    if (pin.functionSelect === FUNC_SIO && pin.outputEnable) {
      this.pixels[pin.index].edge(pin.outputValue, this.chip.clock.nanos, (bytes) =>
        this.py.pixel(pin.index, hex(bytes)));
    }
    return false;
  }

  update() {
    const ns = this.chip.clock.nanos;
    for (let i = 0; i < this.pixels.length; i++) {
      this.pixels[i].poll(ns, (bytes) => this.py.pixel(i, hex(bytes)));
    }
  }
}
