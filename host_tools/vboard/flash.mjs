// The virtual board's flash filesystem, host side: a folder on the host behind the VFS class
// in py/vb_flash.py. Every call is a synchronous Node fs call; errors come back to Python as
// negative MicroPython errno values (ENOENT 2, EEXIST 17, ENOSPC 28, ...), never as throws.
//
// Model (what a littlefs board does, approximately):
// - Capacity: `capacity` bytes in 4096-byte blocks. Each directory costs 2 blocks (a metadata
//   pair; the root's pair is the superblock), each file ceil(size / 4096) blocks. No other
//   metadata, wear or inline-file accounting: totals are approximate.
// - fsModel "littlefs" (default): copy-on-write. A file opened for writing is built in memory
//   and committed on flush() or close(); until then the flash keeps the old content, and the
//   old and new copies both count against capacity. A new file's (empty) entry is created at
//   open, so a power cut before the first commit leaves an empty file. Commits of whole files
//   write a temporary file and rename it (atomic on the host). ENOSPC comes from write() once
//   the full blocks no longer fit, or from flush()/close() for the last partial block.
// - fsModel "direct" (FAT-like): writes land in the file at once; a power cut leaves the bytes
//   written so far (a torn write). ENOSPC from write().
// - rename() over an existing file replaces it atomically (host rename). remove() and rmdir()
//   both delete a file or an empty directory, as lfs_remove does (ENOTEMPTY 39 otherwise).
// - Power cut: `cutAtWrite` = N cuts the power inside the Nth write() call (counted over the
//   whole run, across resets): half of that call's bytes are written (direct model) and
//   onPowerCut() is called, which must not return.
// - mtime: committed files get the board's RTC time (seconds since 1970) as their mtime.
// The host folder's ".vboard" entry is reserved (temporary files) and invisible to the board.
import fs from "node:fs";
import path from "node:path";

const BLOCK = 4096;
const E = { EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EACCES: 13, EEXIST: 17, ENOTDIR: 20,
  EISDIR: 21, EINVAL: 22, ENOSPC: 28, ENAMETOOLONG: 36, ENOTEMPTY: 39 };
const RESERVED = ".vboard";
const S_IFDIR = 0x4000;
const S_IFREG = 0x8000;

const blocks = (size) => Math.ceil(size / BLOCK);
const fullBlocks = (size) => Math.floor(size / BLOCK);

function errno(e) {
  return E[e && e.code] || E.EIO;
}

export class Flash {
  // opts: {dir, capacity, fsModel, cutAtWrite, writes (count so far), epochS(), heap(), onPowerCut}
  constructor(opts) {
    this.dir = path.resolve(opts.dir);
    this.total = Math.max(2, Math.floor(opts.capacity / BLOCK));
    this.cow = (opts.fsModel || "littlefs") !== "direct";
    this.cutAt = opts.cutAtWrite || 0;
    this.writes = opts.writes || 0;
    this.epochS = opts.epochS;
    this.heap = opts.heap;
    this.onPowerCut = opts.onPowerCut;
    this.handles = new Map();
    this.nextHandle = 1;
    this.usedCache = -1;
    this.tmp = path.join(this.dir, RESERVED);
    fs.mkdirSync(this.tmp, { recursive: true });
    for (const f of fs.readdirSync(this.tmp)) fs.rmSync(path.join(this.tmp, f), { force: true });
  }

  // -- paths ------------------------------------------------------------------------------

  host(p) {
    // p comes normalised from vb_flash ("/a/b"); refuse anything that could leave the folder.
    if (typeof p !== "string" || !p.startsWith("/")) return null;
    const parts = p.split("/").filter(Boolean);
    if (parts.some((s) => s === "." || s === ".." || s.includes("\0"))) return null;
    if (parts.length && parts[0] === RESERVED) return null;
    if (parts.some((s) => Buffer.byteLength(s) > 255)) return null;
    return path.join(this.dir, ...parts);
  }

  // -- capacity ---------------------------------------------------------------------------

  committedBlocks() {
    if (this.usedCache < 0) {
      const walk = (d) => {
        let n = 2;
        for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
          if (d === this.dir && ent.name === RESERVED) continue;
          const p = path.join(d, ent.name);
          if (ent.isDirectory()) n += walk(p);
          else n += blocks(fs.statSync(p).size);
        }
        return n;
      };
      this.usedCache = walk(this.dir);
    }
    return this.usedCache;
  }

  pendingBlocks(except) {
    let n = 0;
    for (const h of this.handles.values()) if (h !== except && h.cow) n += h.reserved;
    return n;
  }

  changed() {
    this.usedCache = -1;
  }

  // -- directory operations ---------------------------------------------------------------

  stat(p) {
    const hp = this.host(p);
    if (hp === null) return -E.ENOENT;
    try {
      const st = fs.statSync(hp);
      const mode = st.isDirectory() ? S_IFDIR : S_IFREG;
      return JSON.stringify([mode, st.isDirectory() ? 0 : st.size, Math.floor(st.mtimeMs / 1000)]);
    } catch (e) {
      return -errno(e);
    }
  }

  listdir(p) {
    const hp = this.host(p);
    if (hp === null) return -E.ENOENT;
    try {
      const out = [];
      for (const ent of fs.readdirSync(hp, { withFileTypes: true })) {
        if (hp === this.dir && ent.name === RESERVED) continue;
        const dir = ent.isDirectory();
        out.push([ent.name, dir ? S_IFDIR : S_IFREG, dir ? 0 : fs.statSync(path.join(hp, ent.name)).size]);
      }
      out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return JSON.stringify(out);
    } catch (e) {
      return -errno(e);
    }
  }

  mkdir(p) {
    const hp = this.host(p);
    if (hp === null || hp === this.dir) return hp === this.dir ? -E.EEXIST : -E.ENOENT;
    if (this.committedBlocks() + this.pendingBlocks() + 2 > this.total) return -E.ENOSPC;
    try {
      fs.mkdirSync(hp);
      this.changed();
      return 0;
    } catch (e) {
      return -errno(e);
    }
  }

  remove(p) {
    const hp = this.host(p);
    if (hp === null) return -E.ENOENT;
    if (hp === this.dir) return -E.EINVAL;
    try {
      if (fs.statSync(hp).isDirectory()) fs.rmdirSync(hp);
      else fs.unlinkSync(hp);
      this.changed();
      return 0;
    } catch (e) {
      return -errno(e);
    }
  }

  rename(a, b) {
    const ha = this.host(a);
    const hb = this.host(b);
    if (ha === null || hb === null) return -E.ENOENT;
    if (ha === this.dir || hb === this.dir) return -E.EINVAL;
    try {
      fs.renameSync(ha, hb); // atomic replace of an existing file, like littlefs
      this.changed();
      return 0;
    } catch (e) {
      return -errno(e);
    }
  }

  statvfs() {
    const free = Math.max(0, this.total - this.committedBlocks());
    return JSON.stringify([BLOCK, BLOCK, this.total, free, free, 0, 0, 0, 0, 255]);
  }

  // -- files ------------------------------------------------------------------------------

  // flags: bit0 read, bit1 write, bit2 append, bit3 create, bit4 truncate, bit5 exclusive
  open(p, flags) {
    const hp = this.host(p);
    if (hp === null) return -E.ENOENT;
    const rd = !!(flags & 1), wr = !!(flags & 2), app = !!(flags & 4);
    const create = !!(flags & 8), trunc = !!(flags & 16), excl = !!(flags & 32);
    let st = null;
    try {
      st = fs.statSync(hp);
    } catch (e) {
      if (e.code !== "ENOENT") return -errno(e);
    }
    if (st && st.isDirectory()) return -E.EISDIR;
    if (st && excl) return -E.EEXIST;
    if (!st && !create) return -E.ENOENT;
    const h = { path: hp, rd, wr, app, pos: 0, cow: false, fd: -1, reserved: 0, dirty: false };
    try {
      if (!st) {
        // littlefs commits a new file's (empty) entry at open
        if (this.committedBlocks() + this.pendingBlocks() >= this.total) return -E.ENOSPC;
        fs.closeSync(fs.openSync(hp, "wx"));
        this.changed();
      }
      if (wr && this.cow) {
        h.cow = true;
        // base: what the flash holds now (the commit baseline); data: the file being built
        h.base = st ? fs.readFileSync(hp) : Buffer.alloc(0);
        h.size = trunc ? 0 : h.base.length;
        h.data = Buffer.alloc(Math.max(256, h.size * 2));
        h.base.copy(h.data, 0, 0, h.size);
        h.dirty = h.size !== h.base.length;
      } else {
        h.fd = fs.openSync(hp, wr ? (trunc ? "w+" : "r+") : "r");
        h.size = fs.fstatSync(h.fd).size;
        if (wr && trunc) this.changed();
      }
    } catch (e) {
      return -errno(e);
    }
    const id = this.nextHandle++;
    this.handles.set(id, h);
    return id;
  }

  read(id, addr, n) {
    const h = this.handles.get(id);
    if (!h || !h.rd) return -E.EBADF;
    if (n <= 0 || h.pos >= h.size) return 0;
    const k = Math.min(n, h.size - h.pos);
    const heap = this.heap();
    let got;
    if (h.cow) {
      h.data.copy(heap, addr, h.pos, h.pos + k);
      got = k;
    } else {
      try {
        got = fs.readSync(h.fd, heap, addr, k, h.pos);
      } catch (e) {
        return -errno(e);
      }
    }
    h.pos += got;
    return got;
  }

  // One line (up to n bytes, ending after the first \n) into the heap at addr.
  readline(id, addr, n) {
    const h = this.handles.get(id);
    if (!h || !h.rd) return -E.EBADF;
    const start = h.pos;
    const got = this.read(id, addr, n);
    if (got <= 0) return got;
    const i = this.heap().subarray(addr, addr + got).indexOf(10);
    if (i >= 0 && i + 1 < got) {
      h.pos = start + i + 1;
      return i + 1;
    }
    return got;
  }

  write(id, addr, n) {
    const h = this.handles.get(id);
    if (!h || !h.wr) return -E.EBADF;
    if (n <= 0) return 0;
    if (h.app) h.pos = h.size;
    const end = h.pos + n;
    const newSize = Math.max(h.size, end);
    let cut = false;
    this.writes += 1;
    if (this.cutAt && this.writes === this.cutAt) {
      cut = true;
      n = n >> 1;
    }
    const src = Buffer.from(this.heap().subarray(addr, addr + n)); // copy: the heap may move
    if (h.cow) {
      const need = fullBlocks(newSize);
      if (!cut && this.committedBlocks() + this.pendingBlocks(h) + need > this.total) return -E.ENOSPC;
      if (h.data.length < h.pos + n) {
        const grown = Buffer.alloc(Math.max(h.pos + n, h.data.length * 2));
        h.data.copy(grown, 0, 0, h.size);
        h.data = grown;
      }
      if (h.pos > h.size) h.data.fill(0, h.size, h.pos);
      src.copy(h.data, h.pos);
      h.size = Math.max(h.size, h.pos + n);
      h.reserved = Math.max(h.reserved, need);
      h.dirty = true;
    } else {
      const old = blocks(h.size);
      if (!cut && this.committedBlocks() - old + blocks(newSize) > this.total) return -E.ENOSPC;
      try {
        fs.writeSync(h.fd, src, 0, n, h.pos);
      } catch (e) {
        return -errno(e);
      }
      h.size = Math.max(h.size, h.pos + n);
      this.usedCache += blocks(h.size) - old; // committedBlocks() above filled the cache
    }
    if (cut) {
      if (h.fd >= 0) fs.fsyncSync(h.fd);
      this.onPowerCut(this.writes);
    }
    h.pos += n;
    return n;
  }

  seek(id, off, whence) {
    const h = this.handles.get(id);
    if (!h) return -E.EBADF;
    const base = whence === 0 ? 0 : whence === 1 ? h.pos : whence === 2 ? h.size : NaN;
    const pos = base + off;
    if (!(pos >= 0)) return -E.EINVAL;
    h.pos = pos;
    return pos;
  }

  size(id) {
    const h = this.handles.get(id);
    return h ? h.size : -E.EBADF;
  }

  flush(id) {
    const h = this.handles.get(id);
    if (!h) return -E.EBADF;
    if (!h.cow || !h.dirty) {
      if (h.fd >= 0 && h.wr) this.touch(h.path);
      return 0;
    }
    if (this.committedBlocks() - blocks(h.base.length) + blocks(h.size) + this.pendingBlocks(h) > this.total) {
      return -E.ENOSPC;
    }
    try {
      const n = h.base.length;
      const appendOnly = h.size >= n && h.data.compare(h.base, 0, n, 0, n) === 0;
      if (appendOnly && fs.existsSync(h.path)) {
        fs.appendFileSync(h.path, h.data.subarray(h.base.length, h.size));
      } else {
        const tmp = path.join(this.tmp, "commit.tmp");
        fs.writeFileSync(tmp, h.data.subarray(0, h.size));
        fs.renameSync(tmp, h.path);
      }
      this.touch(h.path);
    } catch (e) {
      return -errno(e);
    }
    h.base = Buffer.from(h.data.subarray(0, h.size));
    h.reserved = 0;
    h.dirty = false;
    this.changed();
    return 0;
  }

  close(id) {
    const h = this.handles.get(id);
    if (!h) return 0; // closing twice is fine
    const r = h.wr ? this.flush(id) : 0;
    this.handles.delete(id);
    if (h.fd >= 0) {
      try {
        fs.closeSync(h.fd);
      } catch (e) {
        return -errno(e);
      }
    }
    return r;
  }

  touch(hp) {
    const t = this.epochS();
    try {
      fs.utimesSync(hp, t, t);
    } catch {
      // the file may have been removed meanwhile: nothing to stamp
    }
  }

  closeAll() {
    for (const h of this.handles.values()) if (h.fd >= 0) fs.closeSync(h.fd);
    this.handles.clear();
  }
}
