// An emulated Raspberry Pi Pico running the official MicroPython rp2 image (rp2040js 1.4.1).
// Started by host_tools/vboard/rp2040.py:
//
//   node chip.mjs '<json config>'      the pty master is an inherited fd (config.fd)
//
// What this adds to rp2040js:
// - QSPI flash that keeps what is written: the ROM's flash_range_erase / flash_range_program
//   (which the SDK's flash functions call) are intercepted at their ROM addresses and applied to
//   the flash array and, at once, to the flash file (config.flashFile, the first
//   config.flashBytes of the chip's flash), so a killed process loses nothing that completed.
//   Each operation costs the time a W25Q16 typically takes (4 KB erase 45 ms, 256 B page
//   program 0.7 ms). Operation config.cutAtWrite (1-based, 0 = never) is cut half way (the first
//   half of the bytes done), then the process prints "POWERCUT <n>" and exits 75.
//   config.journal (a path, optional) gets every operation appended as it starts, so a host can
//   rebuild the flash as it was inside any of them (host_tools/vboard/flashjournal.py reads it):
//   "E" or "P", offset and byte count (uint32 LE), and for "P" the bytes the firmware asked for.
// - USB CDC on the pty: what the firmware sends is written to the pty; what the host writes goes
//   to the OUT endpoint when the firmware asks for it. Output is dropped while no program has
//   the pty open (EIO), as a board's is with no host.
// - The watchdog (a timeout or machine.reset()) reboots the chip with the same flash; the
//   watchdog's REASON survives, so machine.reset_cause() reports WDT_RESET as on a Pico.
// - Time: virtual. While the core sleeps (WFE/WFI) the clock jumps to the next timer alarm.
//   config.realtime keeps the virtual clock from running ahead of the wall clock; config.rate
//   (accelerated) caps it at that many times real time. The emulator itself runs at about 0.4x
//   real time while the core is busy.
// - The world (world.mjs): ADC channels, pulls, PWM and pin outputs, the button, the I2C
//   devices and WS2812 pixels (wires.mjs).
// - Cycle profile (config.cycleProfile, a path; tools/bench/chip.py --profile): the cycles spent
//   at each flash or RAM address while GPIO config.profilePin is driven high, written as
//   "address cycles" lines (hex, decimal) each time the pin goes low again.
// stdout carries status lines for the launcher: "READY" once USB is up, "POWERCUT <n>",
// "REBOOT <reason>". Diagnostics go to stderr.
import fs from "node:fs";

import { RP2040, USBCDC } from "rp2040js";

import { World } from "./world.mjs";

const cfg = JSON.parse(process.argv[2]);
const EXIT_POWER_CUT = 75;
const EXIT_HARD_FAULT = 76;
const NS_PER_CYCLE = 8; // 125 MHz
const ERASE_NS_PER_4K = 45e6;
const PROGRAM_NS_PER_PAGE = 0.7e6;
const FLASH_BASE = 0x10000000;
const SLICE_CYCLES = 250000; // 2 ms of chip time between host polls
const ROM_FUNC_TABLE = 0x14;

function log(text) {
  process.stderr.write("rp2040: " + text + "\n");
}

function status(line) {
  process.stdout.write(line + "\n");
}

// -- flash file ------------------------------------------------------------------------------

const flashBytes = cfg.flashBytes;
const flash = Buffer.alloc(flashBytes, 0xff);
const flashFd = fs.openSync(cfg.flashFile, fs.existsSync(cfg.flashFile) ? "r+" : "w+");
{
  const n = fs.readSync(flashFd, flash, 0, flashBytes, 0);
  const image = fs.readFileSync(cfg.image);
  if (image.length > flashBytes) throw new Error("image larger than the flash");
  // Like copying a UF2 onto the drive: the image's bytes are replaced, the rest is kept.
  image.copy(flash, 0);
  if (n < flashBytes || !flash.subarray(0, image.length).equals(image)) {
    fs.writeSync(flashFd, flash, 0, flashBytes, 0);
  }
}

let flashOps = 0;
const journalFd = cfg.journal ? fs.openSync(cfg.journal, "a") : null;

function journal(kind, offset, count, chip, src) {
  if (journalFd === null) return;
  const rec = Buffer.alloc(9 + (kind === "P" ? count : 0));
  rec.write(kind, 0, "latin1");
  rec.writeUInt32LE(offset >>> 0, 1);
  rec.writeUInt32LE(count >>> 0, 5);
  for (let i = 0; i < rec.length - 9; i++) rec[9 + i] = chip.readUint8(src + i);
  fs.writeSync(journalFd, rec);
}

function persist(offset, length) {
  fs.writeSync(flashFd, flash, offset, length, offset);
}

function powerCut() {
  fs.fsyncSync(flashFd);
  process.stdout.write("POWERCUT " + flashOps + "\n", () => process.exit(EXIT_POWER_CUT));
  setTimeout(() => process.exit(EXIT_POWER_CUT), 200);
  halted = true;
}

function flashErase(chip, offset, count) {
  flashOps++;
  journal("E", offset, count);
  const cut = flashOps === cfg.cutAtWrite;
  const end = Math.min(offset + (cut ? count >> 1 : count), flashBytes);
  if (offset < 0 || offset >= flashBytes) return 0;
  flash.fill(0xff, offset, end);
  chip.flash.fill(0xff, offset, end);
  persist(offset, end - offset);
  if (cut) powerCut();
  return (count / 4096) * ERASE_NS_PER_4K;
}

function flashProgram(chip, offset, src, count) {
  flashOps++;
  journal("P", offset, count, chip, src);
  const cut = flashOps === cfg.cutAtWrite;
  const n = Math.min(cut ? count >> 1 : count, flashBytes - offset);
  if (offset < 0 || offset >= flashBytes) return 0;
  for (let i = 0; i < n; i++) {
    const v = flash[offset + i] & chip.readUint8(src + i); // NOR: programming only clears bits
    flash[offset + i] = v;
    chip.flash[offset + i] = v;
  }
  persist(offset, n);
  if (cut) powerCut();
  return Math.ceil(count / 256) * PROGRAM_NS_PER_PAGE;
}

// The ROM's function table: (code, address) halfword pairs, code = two ASCII letters.
function romFunction(bootrom, code) {
  const rom = Buffer.from(bootrom.buffer, bootrom.byteOffset, bootrom.byteLength);
  let p = rom.readUInt16LE(ROM_FUNC_TABLE);
  for (;;) {
    const c = rom.readUInt16LE(p);
    if (c === 0) throw new Error("ROM function not found");
    if (c === (code.charCodeAt(0) | (code.charCodeAt(1) << 8))) return rom.readUInt16LE(p + 2) & ~1;
    p += 4;
  }
}

// -- the chip --------------------------------------------------------------------------------

const bootromBytes = fs.readFileSync(cfg.bootrom);
const bootrom = new Uint32Array(bootromBytes.buffer, bootromBytes.byteOffset, bootromBytes.length / 4);
const ERASE_AT = romFunction(bootrom, "RE");
const PROGRAM_AT = romFunction(bootrom, "RP");

const pty = cfg.fd;
const rxBuf = Buffer.alloc(4096);
let rxQueue = []; // host bytes not yet taken by the firmware
let txQueue = []; // firmware bytes not yet written to the pty
let hostConnected = false;
let chip = null;
let cdc = null;
let pendingRead = null;
let halted = false;
let readySent = false;
const startReal = Date.now();
let clockBase = 0; // virtual ns at the current boot (the clock restarts with each chip)

function boot(reason) {
  chip = new RP2040();
  // rp2040js warns about every access to a peripheral it does not model (SSI, IO_QSPI, ...)
  chip.logger = { debug() {}, info() {}, warn() {}, error: (c, m) => {
    log(c + ": " + m);
    // A Cortex-M0+ takes a HardFault on an unaligned word access; rp2040js reads on. Stop here,
    // so code that only works in the emulator (frozen machine code of mpy-tool's 2-byte
    // alignment did this) fails its tests instead of a real Pico.
    if (m.includes("not 32 bit aligned")) {
      log("HARD FAULT (unaligned access): the chip stops");
      process.exit(EXIT_HARD_FAULT);
    }
  } };
  chip.loadBootrom(bootrom);
  chip.flash.set(flash);
  const watchdog = chip.peripherals[0x40058];
  watchdog.reason = reason;
  watchdog.onWatchdogTrigger = () => {
    reboot = watchdog.reason;
  };
  cdc = new USBCDC(chip.usbCtrl);
  const ctrl = chip.usbCtrl;
  const cdcRead = ctrl.onEndpointRead;
  ctrl.onEndpointRead = (endpoint, size) => {
    // Hold the firmware's read until the host has sent something (no empty packets meanwhile).
    if (endpoint === cdc.outEndpoint && cdc.txFIFO.empty) pendingRead = [endpoint, size];
    else cdcRead(endpoint, size);
  };
  cdc.onDeviceConnected = () => {
    if (!readySent) status("READY");
    readySent = true;
  };
  cdc.onSerialData = (data) => {
    if (hostConnected) txQueue.push(Buffer.from(data));
  };
  pendingRead = null;
  chip.core.PC = FLASH_BASE; // boot2 at the start of flash, as the ROM's flash boot would
  world.attach(chip);
}

let reboot = -1;

function feedHost() {
  // Host -> OUT endpoint, a FIFO's worth at a time.
  while (rxQueue.length > 0 && !cdc.txFIFO.full) cdc.sendSerialByte(rxQueue.shift());
  if (pendingRead !== null && !cdc.txFIFO.empty) {
    const [ep, size] = pendingRead;
    pendingRead = null;
    cdc.usb.onEndpointRead(ep, size);
  }
}

function pollPty() {
  for (;;) {
    let n;
    try {
      n = fs.readSync(pty, rxBuf, 0, rxBuf.length, null);
    } catch (e) {
      if (e.code === "EAGAIN") {
        hostConnected = true;
        break;
      }
      if (e.code === "EIO") {
        hostConnected = false;
        txQueue = [];
        break;
      }
      throw e;
    }
    if (n <= 0) break;
    hostConnected = true;
    // Kept until the firmware reads them, also while USB is still coming up: a host that
    // opened the port early (right after `pacer vboard` printed it) loses nothing.
    for (let i = 0; i < n; i++) rxQueue.push(rxBuf[i]);
  }
  while (txQueue.length > 0) {
    const b = txQueue[0];
    let n;
    try {
      n = fs.writeSync(pty, b);
    } catch (e) {
      if (e.code === "EAGAIN") break;
      if (e.code === "EIO") {
        txQueue = [];
        break;
      }
      throw e;
    }
    if (n < b.length) txQueue[0] = b.subarray(n);
    else txQueue.shift();
  }
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));

function sleepReal(ms) {
  if (ms > 0) Atomics.wait(waitCell, 0, 0, ms);
}

function virtualNs() {
  return chip === null ? clockBase : clockBase + chip.clock.nanos;
}

// cycles by halfword address: flash (XIP, frozen code and the VM) and RAM (code run from SRAM)
const profFlash = cfg.cycleProfile ? new Float64Array(flashBytes >> 1) : null;
const profRam = cfg.cycleProfile ? new Float64Array(0x42000 >> 1) : null;

// mp_map_lookup calls while the gate is high (config.lookupAt, its address): by map (address,
// alloc, used), key and kind, for `chip.py --profile`'s table of the tick's look-ups
const lookupAt = cfg.cycleProfile && cfg.lookupAt ? cfg.lookupAt & ~1 : -1;
const lookups = new Map();

function countLookup() {
  const r = chip.core.registers;
  const map = r[0] >>> 0;
  const head = chip.readUint32(map) >>> 0; // all_keys_are_qstrs:1, is_fixed:1, is_ordered:1, used
  const key = [map.toString(16), chip.readUint32(map + 4) >>> 0, head >>> 3,
    (r[1] >>> 0).toString(16), r[2]].join(" ");
  lookups.set(key, (lookups.get(key) || 0) + 1);
}

function writeProfile() {
  if (lookupAt >= 0) {
    const rows = [...lookups].map(([k, n]) => k + " " + n);
    fs.writeFileSync(cfg.cycleProfile + ".lookups", rows.join("\n") + "\n");
    lookups.clear();
  }
  const lines = [];
  for (let i = 0; i < profFlash.length; i++) {
    if (profFlash[i] > 0) lines.push((FLASH_BASE + 2 * i).toString(16) + " " + profFlash[i]);
  }
  for (let i = 0; i < profRam.length; i++) {
    if (profRam[i] > 0) lines.push((0x20000000 + 2 * i).toString(16) + " " + profRam[i]);
  }
  fs.writeFileSync(cfg.cycleProfile, lines.join("\n") + "\n");
}

function runSlice() {
  const core = chip.core;
  const clock = chip.clock;
  let cycles = 0;
  const gate = profFlash !== null ? chip.gpio[cfg.profilePin] : null;
  while (cycles < SLICE_CYCLES && !halted && reboot < 0) {
    if (core.waiting) {
      const dt = clock.nanosToNextAlarm;
      if (dt <= 0) return true; // nothing scheduled: wait for the host
      clock.tick(dt);
      cycles += dt / NS_PER_CYCLE;
      continue;
    }
    const pc = core.PC;
    if (pc === ERASE_AT || pc === PROGRAM_AT) {
      const r = core.registers;
      const ns = pc === ERASE_AT ? flashErase(chip, r[0], r[1]) : flashProgram(chip, r[0], r[1], r[2]);
      core.PC = core.LR & ~1;
      clock.tick(ns);
      cycles += ns / NS_PER_CYCLE;
      continue;
    }
    const c = core.executeInstruction();
    clock.tick(c * NS_PER_CYCLE);
    cycles += c;
    if (gate !== null && gate.outputValue) {
      if (pc === lookupAt) countLookup();
      if (pc >= FLASH_BASE && pc < FLASH_BASE + flashBytes) profFlash[(pc - FLASH_BASE) >> 1] += c;
      else if (pc >= 0x20000000 && pc < 0x20042000) profRam[(pc - 0x20000000) >> 1] += c;
    }
  }
  return false;
}

function pace(idle) {
  const aheadMs = cfg.realtime
    ? virtualNs() / 1e6 - (Date.now() - startReal)
    : cfg.rate > 0 ? virtualNs() / 1e6 / cfg.rate - (Date.now() - startReal) : 0;
  if (aheadMs > 1) sleepReal(Math.min(aheadMs, 20));
  else if (idle) sleepReal(1);
}

let profiling = false;

function loop() {
  const until = Date.now() + 50;
  while (!halted && Date.now() < until) {
    pollPty();
    feedHost();
    const idle = runSlice();
    if (profFlash !== null) {
      const on = chip.gpio[cfg.profilePin].outputValue;
      if (profiling && !on) writeProfile();
      profiling = on;
    }
    if (reboot >= 0) {
      const reason = reboot;
      reboot = -1;
      clockBase += chip.clock.nanos;
      rxQueue = []; // what the host sent to the old USB device is gone with it
      status("REBOOT " + reason);
      boot(reason);
      continue;
    }
    world.update();
    pace(idle && rxQueue.length === 0);
  }
  if (!halted) setImmediate(loop);
}

const world = await World.create(cfg, () => virtualNs() / 1000, log);
boot(0);
loop();
