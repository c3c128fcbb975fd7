// Board time. One clock in microseconds since the virtual board was first powered, kept across
// resets by the supervisor (board.mjs) in shared memory.
// - realtime: the clock follows the host's monotonic clock; sleeps really wait.
// - virtual (accelerated): the clock only moves when the firmware sleeps (instantly, by the
//   requested amount), by tickCostUs per time call if set, by 10 us per C-level busy-wait
//   iteration (select.poll with a timeout), and at real speed while the board waits for
//   input (idle REPL, a blocking stdin read). Executing Python costs no virtual time, so runs
//   are deterministic for a given input.
// - rate (virtual mode): sleeps also wait in real time as far as needed to keep the clock at
//   most rate x real time (same determinism: the board sees only the virtual clock).
// Board-visible values derived from it:
// - ticks_ms / ticks_us: time since the last hard reset (soft resets keep counting, as on rp2),
//   plus ticksOffsetUs, wrapped at 2**30 like every 32-bit MicroPython port.
// - RTC (time.time): epochS at power-on plus the clock (wall clock in realtime mode).
// The watchdog deadline lives here too: any host call past it resets the board.
export const TICKS_PERIOD = 2 ** 30;

// shared Float64Array slots (see board.mjs)
// CLOCK (us) was current at wall time ADVANCED_AT (ms); HEARTBEAT: wall time of the last host
// call; BUSY: 1 while Python runs; WRITES: flash writes so far; BOOT_BASE: CLOCK at the last
// hard reset (where the tick counters start).
export const SH = { CLOCK: 0, WDT_DEADLINE: 1, ADVANCED_AT: 2, BUSY: 3, WDT_MS: 4, WRITES: 5,
  BOOT_BASE: 6, HEARTBEAT: 7 };
export const SHARED_SLOTS = 8;

export class Clock {
  constructor(cfg, shared) {
    this.realtime = !!cfg.realtime;
    this.tickCostUs = cfg.tickCostUs || 0;
    // rate > 0 (virtual mode only): never run more than rate x real time (a watchable demo)
    this.rate = cfg.rate > 0 && !this.realtime ? cfg.rate : 0;
    this.rateT0 = performance.now();
    this.sh = shared;
    this.startUs = shared[SH.CLOCK];
    this.t0 = performance.now();
    this.vUs = this.startUs;
    this.rateV0 = this.startUs;
    this.bootBase = shared[SH.BOOT_BASE];
    this.ticksOffset = cfg.ticksOffsetUs || 0;
    this.epoch0 = cfg.epochS;
    this.wdtDeadline = -1;
    this.wdtUs = 0;
    this.onWdt = null; // called when the deadline passes; must not return
    shared[SH.WDT_DEADLINE] = -1;
    shared[SH.ADVANCED_AT] = Date.now();
  }

  now() {
    if (this.realtime) {
      const us = this.startUs + Math.floor((performance.now() - this.t0) * 1000);
      this.sh[SH.CLOCK] = us;
      this.sh[SH.ADVANCED_AT] = Date.now();
      return us;
    }
    return this.vUs;
  }

  advance(us) {
    if (this.realtime || !(us > 0)) return;
    if (this.wdtDeadline >= 0 && this.vUs + us >= this.wdtDeadline) {
      this.vUs = this.wdtDeadline;
      this.publish();
      this.onWdt();
    }
    this.vUs += us;
    this.publish();
  }

  // Real milliseconds the clock is ahead of rate x real time (0 without a rate).
  aheadMs() {
    if (!this.rate) return 0;
    return (this.vUs - this.rateV0) / 1000 / this.rate - (performance.now() - this.rateT0);
  }

  publish() {
    this.sh[SH.CLOCK] = this.vUs;
    this.sh[SH.ADVANCED_AT] = Date.now();
  }

  // A host call: charge the configured cost, then check the watchdog.
  tick() {
    if (this.tickCostUs) this.advance(this.tickCostUs);
    this.checkWdt();
  }

  checkWdt() {
    if (this.wdtDeadline >= 0 && this.now() >= this.wdtDeadline) {
      if (!this.realtime) this.vUs = this.wdtDeadline;
      this.onWdt();
    }
  }

  sinceBoot() {
    return this.now() - this.bootBase + this.ticksOffset;
  }

  ticksUs() {
    return this.sinceBoot() % TICKS_PERIOD;
  }

  ticksMs() {
    return Math.floor(this.sinceBoot() / 1000) % TICKS_PERIOD;
  }

  epochUs() {
    return this.epoch0 * 1e6 + this.now();
  }

  wdtStart(ms) {
    this.wdtUs = ms * 1000;
    this.sh[SH.WDT_MS] = ms;
    this.wdtFeed();
  }

  wdtFeed() {
    if (this.wdtUs > 0) {
      this.wdtDeadline = this.now() + this.wdtUs;
      this.sh[SH.WDT_DEADLINE] = this.wdtDeadline;
    }
  }
}
