/**
 * "Teach it your handwriting": corrections, the list of taught examples, export and import.
 *
 * While a drawing is shown, a digit key 0-9 or a click/tap on that digit's probability bar
 * stores the drawing (its strokes, as data) with that label in the TaughtStore and confirms
 * "Learned: this is a 7". The adaptation itself happens in Python (site/learn.py) wherever the
 * model runs: this view calls `onChange(records)` with every taught record after each change,
 * and whoever runs the model keeps its Personalizer in step (features per record, recomputed
 * from the strokes whenever the model's sha256 differs from the one they were made with).
 *
 * API (see mountTeachView): `view.onChange = (records) => …`, `view.modelSha256 = "…"`,
 * `view.teach(label)`, `view.undo()`, `view.records`.
 */
import { MAX_FILE_BYTES, TaughtStore, exportFile, validateFile } from "./taught-store.js";

/** Side of the model canvas (draw.js MODEL_CANVAS_PX): stored strokes are in its pixels. */
const MODEL_CANVAS_PX = 280;
const THUMB_PX = 56;
const FORGET_ARM_MS = 5000;

/**
 * draw.js strokes ({points: [[fx, fy], …] as fractions of the side, width: fraction}) -> a
 * drawing in model-canvas pixels, the format the store, the export and drawings.py use.
 */
export function drawingFromStrokes(strokes, side = MODEL_CANVAS_PX) {
  const round = (v) => Math.round(v * side * 100) / 100;
  return {
    canvas: [side, side],
    pen_width: round(strokes[0]?.width ?? 0.04),
    strokes: strokes.map((s) => s.points.map(([x, y]) => [round(x), round(y)])),
  };
}

/** Draw a record's strokes into a small canvas, like draw.js does (round caps and joins). */
function thumbnail(record) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = THUMB_PX;
  const ctx = canvas.getContext("2d");
  const k = THUMB_PX / Math.max(...record.canvas);
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.lineWidth = Math.max(1, record.pen_width * k);
  ctx.strokeStyle = ctx.fillStyle = "#000";
  for (const s of record.strokes) {
    ctx.beginPath();
    if (s.length === 1) {
      ctx.arc(s[0][0] * k, s[0][1] * k, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.moveTo(s[0][0] * k, s[0][1] * k);
    for (const [x, y] of s.slice(1)) ctx.lineTo(x * k, y * k);
    ctx.stroke();
  }
  return canvas;
}

export class TeachView {
  /**
   * @param {object} o
   * @param {TaughtStore} o.store
   * @param {() => object|null} o.current the drawing on screen (drawingFromStrokes) or null
   * @param {string} [o.app] app version written into exports
   * @param {ParentNode} [o.root]
   */
  constructor({ store, current, app = "", root = document }) {
    this.store = store;
    this.current = current;
    this.app = app;
    this.modelSha256 = "";
    this.onChange = () => {};
    this.lastId = null;
    const $ = (id) => root.querySelector(`[data-testid="${id}"]`);
    this.el = {
      message: $("teach-message"),
      note: $("teach-note"),
      count: $("taught-count"),
      list: $("taught-list"),
      undo: $("teach-undo"),
      forget: $("teach-forget"),
      download: $("teach-download"),
      importInput: $("teach-import"),
      bars: $("probabilities"),
    };
    this.el.undo.addEventListener("click", () => this.undo());
    this.el.forget.addEventListener("click", () => this.#forget());
    this.el.download.addEventListener("click", () => this.download());
    this.el.importInput.addEventListener("change", () => this.#importChosen());
    this.el.bars?.addEventListener("click", (event) => {
      const bar = event.target.closest("[data-digit]");
      if (bar) this.teach(Number(bar.dataset.digit));
    });
    root.addEventListener("keydown", (event) => {
      if (!/^[0-9]$/.test(event.key) || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
      event.preventDefault();
      this.teach(Number(event.key));
    });
    this.#render();
  }

  get records() {
    return this.store.all();
  }

  #say(text) {
    this.el.message.textContent = text;
  }

  #changed() {
    this.#render();
    this.onChange(this.records);
  }

  /** Label the drawing on screen as `label` and store it. */
  async teach(label) {
    const drawing = this.current();
    if (!drawing || drawing.strokes.length === 0) {
      this.#say("Draw a digit first, then press its key (or tap its bar) to teach it.");
      return null;
    }
    try {
      const record = await this.store.add({
        ...drawing,
        label,
        time: new Date().toISOString(),
        model_sha256: this.modelSha256 || "",
      });
      this.lastId = record.id;
      this.#say(`Learned: this is a ${label}`);
      this.#changed();
      return record;
    } catch (error) {
      this.#say(`Could not learn this drawing: ${error.message}`);
      return null;
    }
  }

  /** Forget the last correction made in this session. */
  async undo() {
    if (this.lastId === null) {
      this.#say("Nothing to undo.");
      return;
    }
    const record = this.records.find((r) => r.id === this.lastId);
    await this.store.remove(this.lastId);
    this.lastId = null;
    this.#say(record ? `Undone: forgot the ${record.label}` : "Nothing to undo.");
    this.#changed();
  }

  async remove(id) {
    await this.store.remove(id);
    if (id === this.lastId) this.lastId = null;
    this.#say("Deleted one taught example.");
    this.#changed();
  }

  async #forget() {
    const button = this.el.forget;
    if (!button.dataset.armed) {
      if (this.records.length === 0) return this.#say("Nothing taught yet.");
      button.dataset.armed = "1";
      button.textContent = `Really forget all ${this.records.length}? Click again`;
      setTimeout(() => this.#disarm(), FORGET_ARM_MS);
      return;
    }
    this.#disarm();
    await this.store.clear();
    this.lastId = null;
    this.#say("Forgot everything you taught.");
    this.#changed();
  }

  #disarm() {
    delete this.el.forget.dataset.armed;
    this.el.forget.textContent = "Forget everything I taught";
  }

  /** Save every taught drawing as one drawings file. */
  download() {
    const text = exportFile(this.records, { app: this.app, modelSha256: this.modelSha256 });
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `mnist-draw-drawings-${new Date().toISOString().slice(0, 10)}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    this.#say(`Downloaded ${this.records.length} drawings.`);
    return text;
  }

  /** Import a drawings file's text: all of it or, on any problem, nothing. */
  async importText(text) {
    let drawings;
    try {
      drawings = validateFile(text);
      await this.store.addMany(drawings);
    } catch (error) {
      this.#say(`Import failed, nothing was imported: ${error.message}`);
      return 0;
    }
    this.#say(`Imported ${drawings.length} drawings.`);
    this.#changed();
    return drawings.length;
  }

  async #importChosen() {
    const input = this.el.importInput;
    const file = input.files?.[0];
    input.value = ""; // the same file can be chosen again
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      this.#say(`Import failed, nothing was imported: the file is too large (${(file.size / 1e6).toFixed(1)} MB).`);
      return;
    }
    await this.importText(await file.text());
  }

  #render() {
    const records = this.records;
    this.el.count.textContent = String(records.length);
    this.el.note.textContent = this.store.note ?? "";
    this.el.note.hidden = !this.store.note;
    this.el.undo.disabled = this.lastId === null;
    const items = records.map((record) => {
      const li = document.createElement("li");
      li.dataset.id = String(record.id);
      li.dataset.label = String(record.label);
      const img = thumbnail(record);
      img.setAttribute("aria-hidden", "true");
      const label = document.createElement("span");
      label.textContent = String(record.label);
      const del = document.createElement("button");
      del.type = "button";
      del.textContent = "×";
      del.title = del.ariaLabel = `Delete this taught ${record.label}`;
      del.addEventListener("click", () => this.remove(record.id));
      li.append(img, label, del);
      return li;
    });
    this.el.list.replaceChildren(...items);
  }
}

/** Open the store and build the view on the page's markup (index.html, section.teach). */
export async function mountTeachView({ current, app = "", root = document, idb } = {}) {
  const store = await TaughtStore.open(idb);
  return new TeachView({ store, current, app, root });
}
