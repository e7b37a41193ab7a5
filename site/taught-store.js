/**
 * Taught examples on the device: IndexedDB, with the session as the fallback; and the drawings
 * file (export / validated import).
 *
 * A record is a drawing as data, never pixels: {id, label, canvas: [w, h], pen_width, strokes:
 * [[[x, y], ...], ...] (canvas px), time (ISO), model_sha256}. The store keeps every record in
 * memory for the session and writes through to IndexedDB; when IndexedDB is unavailable
 * (private mode, blocked) or full, learning goes on in memory and `note` says that the examples
 * are not saved. Imports are validated whole before anything is stored, and stored in one
 * transaction: all or nothing. The file format is the one site/drawings.py reads (PLAN.md);
 * `validateFile` mirrors its checks and limits.
 */

export const FORMAT = "mnist-draw-drawings";
export const VERSION = 1;
export const MAX_FILE_BYTES = 20_000_000;
export const MAX_DRAWINGS = 10_000;
const MAX_STROKES = 100;
const MAX_POINTS = 20_000;
const MIN_CANVAS = 8;
const MAX_CANVAS = 4096;

const DB_NAME = "mnist-draw";
const DB_VERSION = 1;
const STORE = "taught";

export const NOT_SAVED_NOTE =
  "Your corrections work for now but are not saved on this device (storage is unavailable, " +
  "e.g. in a private window). Use “Download my drawings” to keep them.";
export const FULL_NOTE =
  "This device's storage is full: new corrections work for now but are not saved. " +
  "Use “Download my drawings” to keep them.";

const request = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

const done = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });

async function openDb(idb) {
  const req = idb.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
  const db = await request(req);
  db.onversionchange = () => db.close(); // another tab upgrades: let it
  return db;
}

export class TaughtStore {
  /** Open the store; never throws (falls back to the session). */
  static async open(idb = globalThis.indexedDB) {
    const store = new TaughtStore();
    try {
      if (!idb) throw new Error("no IndexedDB");
      store.db = await openDb(idb);
      store.records = await request(store.db.transaction(STORE).objectStore(STORE).getAll());
    } catch {
      store.db = null;
      store.note = NOT_SAVED_NOTE;
    }
    return store;
  }

  constructor() {
    this.db = null;
    this.records = [];
    this.note = null;
    this.nextMemoryId = -1; // ids of unsaved records are negative: never clash with IndexedDB's
  }

  /** True while corrections are saved on the device. */
  get persistent() {
    return this.db !== null;
  }

  /** Every taught record, oldest first (copies are not made: treat as read-only). */
  all() {
    return this.records;
  }

  /** Store one validated drawing; returns the record (with its id). */
  async add(drawing) {
    const [record] = await this.addMany([drawing]);
    return record;
  }

  /** Store drawings all together (validated first; all or nothing); returns their records. */
  async addMany(drawings) {
    const clean = drawings.map((d, i) => {
      try {
        return validateDrawing(d);
      } catch (error) {
        throw new Error(drawings.length > 1 ? `drawing #${i + 1}: ${error.message}` : error.message);
      }
    });
    let records = null;
    if (this.db) {
      try {
        const tx = this.db.transaction(STORE, "readwrite");
        const os = tx.objectStore(STORE);
        const ids = clean.map((d) => request(os.add(d)));
        await done(tx);
        const keys = await Promise.all(ids);
        records = clean.map((d, i) => ({ ...d, id: keys[i] }));
      } catch (error) {
        // Full (QuotaExceededError) or gone: keep learning in memory, say so.
        this.db = null;
        this.note = error?.name === "QuotaExceededError" ? FULL_NOTE : NOT_SAVED_NOTE;
      }
    }
    records ??= clean.map((d) => ({ ...d, id: this.nextMemoryId-- }));
    this.records.push(...records);
    return records;
  }

  /** Forget one record by id. */
  async remove(id) {
    this.records = this.records.filter((r) => r.id !== id);
    if (this.db && id >= 0) await this.#write((os) => os.delete(id));
  }

  /** Forget every record. */
  async clear() {
    this.records = [];
    if (this.db) await this.#write((os) => os.clear());
  }

  async #write(fn) {
    try {
      const tx = this.db.transaction(STORE, "readwrite");
      fn(tx.objectStore(STORE));
      await done(tx);
    } catch {
      this.db = null;
      this.note = NOT_SAVED_NOTE;
    }
  }
}

// ---- the drawings file ----------------------------------------------------------------------

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);
const isInt = (v) => Number.isInteger(v);

/** Check one drawing (same rules as drawings.validate_drawing); returns a clean copy. */
export function validateDrawing(d) {
  if (d === null || typeof d !== "object" || Array.isArray(d)) throw new Error("a drawing must be an object");
  if (!isInt(d.label) || d.label < 0 || d.label > 9) {
    throw new Error(`"label" must be a digit 0-9, got ${JSON.stringify(d.label)}`);
  }
  const c = d.canvas;
  if (!Array.isArray(c) || c.length !== 2 || !c.every((v) => isInt(v) && v >= MIN_CANVAS && v <= MAX_CANVAS)) {
    throw new Error(`"canvas" must be [width, height] in whole px, ${MIN_CANVAS}-${MAX_CANVAS} each`);
  }
  const [w, h] = c;
  if (!isNumber(d.pen_width) || d.pen_width <= 0 || d.pen_width > Math.max(w, h) / 2) {
    throw new Error(`"pen_width" must be a number of px in (0, ${Math.max(w, h) / 2}]`);
  }
  if (!Array.isArray(d.strokes) || d.strokes.length === 0) {
    throw new Error('"strokes" must be a non-empty list of strokes');
  }
  if (d.strokes.length > MAX_STROKES) throw new Error(`${d.strokes.length} strokes; at most ${MAX_STROKES}`);
  let total = 0;
  const strokes = d.strokes.map((s, j) => {
    if (!Array.isArray(s) || s.length === 0) throw new Error(`stroke ${j + 1} must be a non-empty list of [x, y] points`);
    total += s.length;
    if (total > MAX_POINTS) throw new Error(`more than ${MAX_POINTS} points`);
    return s.map((p) => {
      if (!Array.isArray(p) || p.length !== 2 || !isNumber(p[0]) || !isNumber(p[1])) {
        throw new Error(`stroke ${j + 1} has a point that is not [x, y]: ${JSON.stringify(p)}`);
      }
      if (p[0] < -w || p[0] > 2 * w || p[1] < -h || p[1] > 2 * h) {
        throw new Error(`stroke ${j + 1} has a point far outside the canvas: ${JSON.stringify(p)}`);
      }
      return [p[0], p[1]];
    });
  });
  const out = { label: d.label, canvas: [w, h], pen_width: d.pen_width, strokes };
  for (const key of ["time", "model_sha256"]) {
    if (key in d) {
      if (typeof d[key] !== "string" || d[key].length > 200) throw new Error(`"${key}" must be a short string`);
      out[key] = d[key];
    }
  }
  return out;
}

/** Parse and check a whole drawings file; returns clean drawings or throws one clear Error. */
export function validateFile(text) {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_FILE_BYTES) {
    throw new Error(`the file is too large (${(bytes / 1e6).toFixed(1)} MB; at most ${MAX_FILE_BYTES / 1e6} MB)`);
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`this is not an MNIST-Draw drawings file (not valid JSON: ${error.message})`);
  }
  if (doc === null || typeof doc !== "object" || doc.format !== FORMAT) {
    throw new Error(`this is not an MNIST-Draw drawings file (expected "format": "${FORMAT}")`);
  }
  if (doc.version !== VERSION) {
    throw new Error(`drawings file version ${JSON.stringify(doc.version)} is not supported (this app reads version ${VERSION})`);
  }
  if (!Array.isArray(doc.drawings)) throw new Error('malformed drawings file: "drawings" must be a list');
  if (doc.drawings.length > MAX_DRAWINGS) {
    throw new Error(`the file holds ${doc.drawings.length} drawings; at most ${MAX_DRAWINGS} can be imported`);
  }
  return doc.drawings.map((d, i) => {
    try {
      return validateDrawing(d);
    } catch (error) {
      throw new Error(`malformed drawing #${i + 1}: ${error.message}`);
    }
  });
}

/** The export file for `records` (ids dropped) as JSON text. */
export function exportFile(records, { app = "", modelSha256 = "" } = {}) {
  const drawings = records.map(({ id, ...d }) => d); // eslint-disable-line no-unused-vars
  return JSON.stringify({
    format: FORMAT,
    version: VERSION,
    app,
    model_sha256: modelSha256,
    exported: new Date().toISOString(),
    drawings,
  });
}
