// Supervisor of the virtual board (Node main thread). Started by launcher.py:
//
//   node board.mjs '<json config>'      the pty master is an inherited fd (config.fd)
//
// Runs one worker (vm.mjs) per boot and carries across resets what a board keeps: the clock,
// the reset cause, the REPL mode over a soft reset, the flash write count (for power cuts).
// It also watches for what the VM cannot notice itself, because a running VM only gets
// control back when Python calls the host:
// - a started watchdog while Python runs without calling the host (a hung loop): in realtime
//   mode the deadline passing, in virtual mode no host call for max(2 s, timeout) of real
//   time; the worker is terminated and the board boots with WDT_RESET.
// - virtual time not moving for 5 s while Python keeps calling the host: a busy-wait on ticks
//   with no time cost; a hint is logged once (use tickCostUs).
// stdout (a pipe to the launcher) carries status lines: "READY" after the first boot,
// "POWERCUT <n>" before exiting with code 75 when the injected power cut hits write n.
// Diagnostics go to stderr. SIGTERM/SIGINT end the process (the default action).
import { Worker } from "node:worker_threads";

import { SH, SHARED_SLOTS } from "./clock.mjs";

const cfg = JSON.parse(process.argv[2]);
const sab = new SharedArrayBuffer(8 * SHARED_SLOTS);
const shared = new Float64Array(sab);
shared[SH.WDT_DEADLINE] = -1;
const WDT_RESET = 3;
export const EXIT_POWER_CUT = 75;

let worker = null;
let ready = false;
let warnedFrozen = false;
let state = { bootCause: 1, mode: "friendly", soft: false, rx: [] };

function log(text) {
  process.stderr.write(text.endsWith("\n") ? text : text + "\n");
}

function spawn() {
  shared[SH.BUSY] = 0;
  shared[SH.WDT_DEADLINE] = -1;
  shared[SH.WDT_MS] = 0;
  shared[SH.HEARTBEAT] = Date.now();
  const w = new Worker(new URL("./vm.mjs", import.meta.url), { workerData: { cfg, state, sab } });
  worker = w;
  w.on("message", (m) => onMessage(w, m));
  w.on("error", (e) => {
    log("vboard: VM worker failed: " + (e && e.stack ? e.stack : e));
    process.exit(70);
  });
}

function reboot(next, delayMs) {
  const old = worker;
  worker = null;
  if (old) old.terminate();
  state = next;
  if (delayMs > 0) setTimeout(spawn, delayMs);
  else spawn();
}

function onMessage(w, m) {
  if (w !== worker) return;
  if (m.type === "booted") {
    if (!ready) process.stdout.write("READY\n");
    ready = true;
  } else if (m.type === "log") {
    log(m.text);
  } else if (m.type === "reset") {
    const soft = m.kind === "soft";
    if (!soft) shared[SH.BOOT_BASE] = shared[SH.CLOCK];
    reboot({ bootCause: m.cause, mode: m.mode, soft, rx: soft ? m.rx : [] }, m.sleepMs || 0);
  } else if (m.type === "powercut") {
    process.stdout.write("POWERCUT " + m.write + "\n", () => process.exit(EXIT_POWER_CUT));
    setTimeout(() => process.exit(EXIT_POWER_CUT), 200);
  } else if (m.type === "crash") {
    log("vboard: VM crashed: " + m.text);
    process.exit(70);
  }
}

function wdtReset(clockUs) {
  log("vboard: watchdog reset (Python did not return to the host)");
  shared[SH.CLOCK] = clockUs;
  shared[SH.BOOT_BASE] = clockUs;
  reboot({ bootCause: WDT_RESET, mode: "friendly", soft: false, rx: [] }, 0);
}

setInterval(() => {
  if (worker === null || shared[SH.BUSY] !== 1) return;
  const now = Date.now();
  const deadline = shared[SH.WDT_DEADLINE];
  if (deadline >= 0) {
    if (cfg.realtime) {
      const est = shared[SH.CLOCK] + (now - shared[SH.ADVANCED_AT]) * 1000;
      if (est > deadline + 50000) wdtReset(est);
    } else if (now - shared[SH.HEARTBEAT] > Math.max(2000, shared[SH.WDT_MS])) {
      wdtReset(deadline);
    }
    return;
  }
  if (!cfg.realtime && !warnedFrozen && now - shared[SH.ADVANCED_AT] > 5000 &&
      now - shared[SH.HEARTBEAT] < 1000) {
    warnedFrozen = true;
    log("vboard: virtual time has not moved for 5 s while the firmware keeps reading it " +
        "(a busy-wait on ticks?); give time calls a cost with --tick-cost-us");
  }
}, 100).unref();

spawn();
