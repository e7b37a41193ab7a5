/**
 * The number view: renders a reading of the whole canvas (every digit, left to right) into the
 * page, and draws the digits' boxes on an overlay canvas. Plain ES module, no framework.
 *
 * It consumes exactly what `segment.reading(seg, probs)` in site/segment.py returns (plain,
 * JSON-able data, passed from the Python worker as-is):
 *
 *   {
 *     state: "empty" | "digits" | "unreadable",
 *     number: "407",            // the recognised digits, left to right ("" unless "digits")
 *     reason: "",               // why it is unreadable (a scribble, more than 12 digits)
 *     partly: true,             // (only when unreadable because one piece of several is
 *                               //  not a digit, added by compute.py)
 *     canvas: [280, 280],       // width, height (px) of the model canvas the boxes refer to
 *     digits: [                 // left to right
 *       { digit: 4,             // the model's top class
 *         confidence: 0.98,     // its probability
 *         low: false,           // confidence below the "unsure" threshold
 *         probs: [10 floats],   // class probabilities 0..9 (the bars)
 *         box: [x, y, w, h],    // ink box on the model canvas (px)
 *         strokes: [0, 1],      // indices of the strokes (or ink components) it groups
 *         index: 0,             // row of this digit in the batched model run
 *         image: [784 floats] } // the 28x28 model input, row-major, 1 = ink
 *     ]
 *   }
 *
 * DOM contract (tests and outside checks rely on it):
 * - `[data-testid=number]` holds exactly the recognised digits as text, left to right, nothing
 *   else; empty when the canvas is empty or unreadable.
 * - one `[data-testid=digit]` per recognised digit, in order, with `data-digit` and
 *   `data-confidence`; a low-confidence digit has class "low"; the selected one aria-pressed.
 * - `[data-testid=number-note]` says "can't read this as a number" when unreadable.
 * The root gets `data-state` (empty / digits / unreadable) and `data-count` (number of digits),
 * so CSS can show the number view only from two digits on (one digit: the single-digit view).
 *
 * A screen reader hears the settled number once: `render(result, { settled: true })` updates an
 * aria-live region after `announceDelay` ms, only if nothing newer arrived and the text changed.
 */

/** Spoken digit by digit ("4 0 7"), as a PIN or a year is read out, not "four hundred seven". */
function spoken(result) {
  if (result.state === "unreadable") return "Can't read this as a number.";
  if (result.state !== "digits") return "Canvas empty.";
  const unsure = result.digits.filter((d) => d.low).length;
  const digits = result.digits.map((d) => d.digit).join(" ");
  const note = unsure ? `, ${unsure} unsure` : "";
  return result.digits.length === 1 ? `${digits}${note}` : `Number ${digits}${note}`;
}

export class NumberView {
  /**
   * @param {HTMLElement} root element holding the view's markup (see index.html)
   * @param {object} [options]
   * @param {(digit: object, position: number) => void} [options.onSelect] called when a digit is
   *   clicked or tapped (and with null when the selection is cleared), so the app can show that
   *   digit's 28x28 image and bars.
   * @param {HTMLCanvasElement} [options.overlay] canvas laid over the drawing for the boxes.
   * @param {number} [options.announceDelay] ms a settled result must stay before it is spoken.
   */
  constructor(root, { onSelect = () => {}, overlay = null, announceDelay = 600 } = {}) {
    this.root = root;
    this.numberEl = root.querySelector("[data-testid=number]");
    this.listEl = root.querySelector("[data-testid=digits]");
    this.noteEl = root.querySelector("[data-testid=number-note]");
    this.liveEl = root.querySelector("[aria-live=polite]");
    this.onSelect = onSelect;
    this.overlay = overlay;
    this.announceDelay = announceDelay;
    this.result = { state: "empty", number: "", reason: "", canvas: [0, 0], digits: [] };
    this.selected = -1;
    this.announceTimer = 0;
    this.spokenText = "";
    this.listEl.addEventListener("click", (event) => {
      const button = event.target.closest("[data-testid=digit]");
      if (button) this.select(Number(button.dataset.position));
    });
  }

  /** Show `result` (the shape above). `settled`: it belongs to the finished current ink. */
  render(result, { settled = false } = {}) {
    this.result = result;
    const digits = result.state === "digits" ? result.digits : [];
    this.root.dataset.state = result.state;
    this.root.dataset.count = String(digits.length);
    this.numberEl.textContent = digits.map((d) => d.digit).join("");
    this.noteEl.textContent =
      result.state === "unreadable" ? "Can't read this as a number." : "";
    this.noteEl.title = result.reason || "";
    this.listEl.replaceChildren(...digits.map((d, i) => this.#digitButton(d, i)));
    if (this.selected >= digits.length) this.selected = -1;
    this.#markSelected();
    this.drawBoxes();
    clearTimeout(this.announceTimer);
    if (settled) this.announceTimer = setTimeout(() => this.#announce(), this.announceDelay);
  }

  /** Select the digit at `position` (-1: none) and tell the app. */
  select(position) {
    const digits = this.result.state === "digits" ? this.result.digits : [];
    this.selected = position >= 0 && position < digits.length ? position : -1;
    this.#markSelected();
    this.drawBoxes();
    this.onSelect(this.selected >= 0 ? digits[this.selected] : null, this.selected);
  }

  clear() {
    this.render({ state: "empty", number: "", reason: "", canvas: [0, 0], digits: [] }, {
      settled: true,
    });
  }

  /** Boxes around the digits on the overlay canvas; dashed when unsure, thick when selected. */
  drawBoxes() {
    const canvas = this.overlay;
    if (!canvas) return;
    const side = canvas.clientWidth || canvas.width;
    const ratio = Math.min(window.devicePixelRatio || 1, 3);
    const pixels = Math.round(side * ratio);
    if (canvas.width !== pixels) canvas.width = canvas.height = pixels;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const { state, digits, canvas: size } = this.result;
    if (state !== "digits" || digits.length < 2 || !size[0]) return;
    const sx = canvas.width / size[0];
    const sy = canvas.height / size[1];
    const accent = getComputedStyle(canvas).getPropertyValue("--box-colour").trim() || "#2563eb";
    ctx.font = `${Math.round(12 * ratio)}px system-ui, sans-serif`;
    digits.forEach((d, i) => {
      const [x, y, w, h] = d.box;
      ctx.strokeStyle = ctx.fillStyle = accent;
      ctx.lineWidth = (i === this.selected ? 3 : 1.5) * ratio;
      ctx.setLineDash(d.low ? [4 * ratio, 3 * ratio] : []);
      ctx.strokeRect(x * sx, y * sy, w * sx, h * sy);
      ctx.fillText(String(d.digit), x * sx + 2 * ratio, y * sy - 3 * ratio);
    });
  }

  #digitButton(d, position) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.testid = "digit";
    button.dataset.digit = String(d.digit);
    button.dataset.confidence = d.confidence.toFixed(4);
    button.dataset.position = String(position);
    button.className = d.low ? "digit low" : "digit";
    const percent = Math.round(d.confidence * 100);
    button.setAttribute(
      "aria-label",
      `Digit ${position + 1}: ${d.digit}, ${percent}% sure${d.low ? ", unsure" : ""}`,
    );
    const big = document.createElement("span");
    big.textContent = String(d.digit); // the only text: [data-testid=number] is separate
    const bar = document.createElement("i");
    bar.style.setProperty("--p", d.confidence);
    bar.setAttribute("aria-hidden", "true");
    button.append(big, bar);
    return button;
  }

  #markSelected() {
    for (const button of this.listEl.querySelectorAll("[data-testid=digit]")) {
      const on = Number(button.dataset.position) === this.selected;
      button.setAttribute("aria-pressed", String(on));
    }
  }

  #announce() {
    // One digit (or nothing) is the single-digit view's to announce: only numbers are spoken here.
    if (this.result.state !== "digits" || this.result.digits.length < 2) return;
    const text = spoken(this.result);
    if (text === this.spokenText || !this.liveEl) return;
    this.spokenText = text;
    this.liveEl.textContent = text;
  }
}
