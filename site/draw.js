/**
 * Pointer events -> strokes -> canvas pixels.
 *
 * Strokes are kept as data (points as fractions of the canvas side) and the canvases are
 * renderings of them, so a resize re-renders sharply. Every finished change (a stroke, Clear)
 * replaces `strokes` with a new array and keeps the old one in a history, so undo and redo are
 * "swap in another stroke list and redraw", Clear included. One pointer draws at a time: extra
 * pointers are ignored, and a second finger (a pinch) cancels the stroke the first one started.
 * Ink goes into the alpha
 * channel of a transparent canvas: what preprocess.py reads, whatever the colour theme.
 */

/** Pen width as a fraction of the canvas side. On the thin side of MNIST's strokes for a digit
 * drawn across most of the canvas (preprocess.py thickens it losslessly), so that a digit drawn
 * small does not fill its own loops: a filled loop cannot be thinned back. */
export const PEN_FRACTION = 0.04;

/** Backing-store pixels per CSS pixel of the visible canvas: sharp on high-DPI screens. */
const MAX_PIXEL_RATIO = 3;

/** Side of the hidden canvas the model reads, whatever the screen: preprocessing cost grows with
 * the pixel count, and 280 px is ten times MNIST's 28, plenty for a digit drawn at 1/4 size. */
export const MODEL_CANVAS_PX = 280;

export class Drawing {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {(final: boolean) => void} onChange called after every visible change;
   *   `final` is true when a stroke ends, the canvas is cleared or a stroke is undone.
   */
  constructor(canvas, onChange) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.strokes = []; // finished strokes (+ the one being drawn); never mutated once replaced
    this.current = null;
    this.past = []; // earlier stroke lists, for undo
    this.future = []; // undone stroke lists, for redo
    this.before = null; // the stroke list before the current stroke started
    this.pointers = new Set(); // pointers down on the canvas
    this.gesture = false; // a multi-touch gesture: draw nothing until every finger is up
    this.ctx = canvas.getContext("2d");
    // The same strokes at a fixed resolution, for the model (see MODEL_CANVAS_PX).
    this.modelCanvas = document.createElement("canvas");
    this.modelCanvas.width = this.modelCanvas.height = MODEL_CANVAS_PX;
    this.modelCtx = this.modelCanvas.getContext("2d", { willReadFrequently: true });
    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    canvas.addEventListener("pointerup", (e) => this.#up(e));
    canvas.addEventListener("pointercancel", (e) => this.#up(e, true));
    // Belt and braces for touch-action: none (older iOS Safari still pinch-zooms without these).
    const stop = (e) => e.cancelable && e.preventDefault();
    for (const type of ["touchstart", "touchmove", "gesturestart"]) {
      canvas.addEventListener(type, stop, { passive: false });
    }
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  get isEmpty() {
    return this.strokes.length === 0;
  }

  /** Match the backing store to the displayed size and device pixel ratio, then redraw. */
  resize() {
    const side = this.canvas.clientWidth || 280;
    const ratio = Math.min(window.devicePixelRatio || 1, MAX_PIXEL_RATIO);
    const pixels = Math.round(side * ratio);
    if (this.canvas.width !== pixels || this.canvas.height !== pixels) {
      this.canvas.width = this.canvas.height = pixels;
      this.redraw();
    }
  }

  get canUndo() {
    return this.past.length > 0;
  }

  get canRedo() {
    return this.future.length > 0;
  }

  /** Clear the canvas (undoable). */
  clear() {
    this.#cancelStroke();
    if (this.strokes.length === 0) return;
    this.past.push(this.strokes);
    this.future = [];
    this.#show([]);
  }

  /** Go back one change (a stroke or a Clear). */
  undo() {
    this.#cancelStroke();
    if (!this.canUndo) return;
    this.future.push(this.strokes);
    this.#show(this.past.pop());
  }

  /** Re-apply the last undone change. */
  redo() {
    this.#cancelStroke();
    if (!this.canRedo) return;
    this.past.push(this.strokes);
    this.#show(this.future.pop());
  }

  #show(strokes) {
    this.strokes = strokes;
    this.redraw();
    this.onChange(true);
  }

  /** Drop the stroke being drawn, if any, as if it had never started. */
  #cancelStroke() {
    if (!this.current) return;
    this.current = null;
    this.#show(this.before);
  }

  /** The model canvas's pixels, as preprocess.preprocess_canvas expects them (H x W x 4 RGBA). */
  pixels() {
    return this.modelCtx.getImageData(0, 0, MODEL_CANVAS_PX, MODEL_CANVAS_PX);
  }

  redraw() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.modelCtx.clearRect(0, 0, MODEL_CANVAS_PX, MODEL_CANVAS_PX);
    for (const stroke of this.strokes) this.#drawStroke(stroke, 0);
  }

  /** Pointer position as fractions of the canvas side (0..1). */
  #point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height];
  }

  #down(event) {
    if (event.button !== 0 && event.pointerType === "mouse") return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId); // its up/cancel comes here, wherever it ends
    this.pointers.add(event.pointerId);
    if (this.current) {
      // A second finger while one draws: a pinch or a zoom attempt, not ink. Pen or mouse
      // strokes carry on and ignore touches (a resting palm).
      if (event.pointerType === "touch" && this.current.pointerType === "touch") {
        this.gesture = true;
        this.#cancelStroke();
      }
      return;
    }
    if (this.gesture) return;
    this.current = {
      pointerId: event.pointerId,
      pointerType: event.pointerType,
      width: PEN_FRACTION,
      points: [this.#point(event)],
    };
    this.before = this.strokes;
    this.strokes = [...this.strokes, this.current];
    this.#drawStroke(this.current, 0);
    this.onChange(false);
  }

  #move(event) {
    const stroke = this.current;
    if (!stroke || stroke.pointerId !== event.pointerId) return;
    event.preventDefault();
    // Coalesced events carry the points the browser merged into this one: smoother curves.
    const events = event.getCoalescedEvents?.() ?? [];
    const from = stroke.points.length - 1;
    for (const e of events.length ? events : [event]) stroke.points.push(this.#point(e));
    this.#drawStroke(stroke, from);
    this.onChange(false);
  }

  #up(event, cancelled = false) {
    this.pointers.delete(event.pointerId);
    if (this.pointers.size === 0) this.gesture = false;
    if (!this.current || this.current.pointerId !== event.pointerId) return;
    if (cancelled) {
      this.#cancelStroke(); // the browser took the pointer away: no half strokes
      return;
    }
    this.current = null;
    this.past.push(this.before);
    this.future = [];
    this.redraw(); // one clean pass: the final pixels do not depend on how events were chunked
    this.onChange(true);
  }

  /** Draw `stroke` from point index `from` on (0 = the whole stroke) on both canvases. */
  #drawStroke(stroke, from) {
    this.#render(this.ctx, this.canvas.width, stroke, from);
    this.#render(this.modelCtx, MODEL_CANVAS_PX, stroke, from);
  }

  /** Render on one context whose side is `s` pixels (a single point becomes a dot). */
  #render(ctx, s, stroke, from) {
    ctx.save();
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = stroke.width * s;
    ctx.strokeStyle = ctx.fillStyle = "#000";
    const pts = stroke.points;
    if (pts.length === 1) {
      ctx.beginPath();
      ctx.arc(pts[0][0] * s, pts[0][1] * s, (stroke.width * s) / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.beginPath();
      ctx.moveTo(pts[from][0] * s, pts[from][1] * s);
      for (let i = from + 1; i < pts.length; i++) ctx.lineTo(pts[i][0] * s, pts[i][1] * s);
      ctx.stroke();
    }
    ctx.restore();
  }
}
