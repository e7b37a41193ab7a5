/**
 * The "Look inside" panel: paints what site/look_inside.py computed. No model arithmetic here.
 *
 * API (plain ES module; the panel is the <details data-testid="look-inside"> in index.html):
 *   isOpen()              -> true while the panel is open (callers skip ALL panel work otherwise)
 *   open(show = true)     -> open or close it
 *   onOpenChange(fn)      -> fn(isOpen) when the user opens or closes it
 *   onUpdateWanted(fn)    -> fn() when the panel needs one more update of the current drawing:
 *                            on opening, and after a render whose "why" map was stale (the
 *                            occlusion run skipped this update); wire it to the app's refresh
 *   render(result)        -> paint one update (the dict below); cheap when called repeatedly
 *   clear()               -> blank the panel (empty canvas)
 *   unavailable(message)  -> the model has no activation outputs: show why instead
 *   stats, current()      -> {renders, clears} counters and the result on screen (tests, benchmark)
 *
 * `result` is LookInside.result(...) from look_inside.py, a plain (structured-cloneable) object;
 * every "rgba" is a Uint8Array/Uint8ClampedArray (or array) of width*height*4 bytes:
 *   {
 *     layers: [ {                       // network order, the input first (from model.json)
 *       name, kind, layer, activation,  // "conv1", "Conv2D", Keras layer name, "relu" | null
 *       shape: [h, w, c] | [units],     // without the batch axis
 *       maps, params,                   // number of maps (channels or units), parameter count
 *       tile: [w, h],                   // one map's size in pixels
 *       width, height, rgba,            // the whole grid, already coloured; gaps transparent
 *       corners: [[x, y], ...],         // each map's top-left corner in the grid (map order)
 *       lo, hi,                         // the layer's shared colour scale (legend labels)
 *       peak: [float, ...],             // each map's strongest value (enlarged view caption)
 *       labels?: [str, ...],            // output layer only: the class labels
 *       kernels?: {tile, width, height, rgba, corners, lo, hi, values: [[[3x3]]], bias}
 *     } ... ],                          //   (first conv layer only: the filter behind each map)
 *     legend: {sequential: rgba 256x1, diverging: rgba 256x1},
 *     why: {width: 28, height: 28, rgba, lo, hi, top, copies, stale, patch, stride,
 *           map: Float32Array(784)},       // the signed map itself (row-major), not painted
 *     timings?: {occlusion_ms, arrange_ms, convert_ms}   // optional, for the benchmark
 *   }
 */

const panel = document.querySelector('[data-testid="look-inside"]');
const $ = (sel) => panel.querySelector(sel);
const layersBox = $('[data-testid="layers"]');
const tableBody = $('[data-testid="layer-table"] tbody');
const detail = $('[data-testid="detail"]');
const whyCanvas = $('[data-testid="why"]');

export const stats = { renders: 0, clears: 0, log: null };
/** The result on screen (or null): for tests and the benchmark, read-only. */
export const current = () => last;

let built = null; // name -> {figure, canvas, legend labels, marker}; built from the first result
let last = null; // the result on screen
let selected = { layer: null, index: 0 };
const listeners = [];

export const isOpen = () => panel.open;
export function open(show = true) {
  panel.open = show;
}
export function onOpenChange(fn) {
  listeners.push(fn);
}
const wanted = [];
export function onUpdateWanted(fn) {
  wanted.push(fn);
}
panel.addEventListener("toggle", () => {
  listeners.forEach((fn) => fn(panel.open));
  if (panel.open) wanted.forEach((fn) => fn());
});

function bytes(rgba) {
  if (rgba instanceof Uint8ClampedArray) return rgba;
  if (ArrayBuffer.isView(rgba)) return new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return Uint8ClampedArray.from(rgba);
}

/** Paint an RGBA image into a canvas of exactly its size. */
function paint(canvas, width, height, rgba) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext("2d").putImageData(new ImageData(bytes(rgba), width, height), 0, 0);
}

const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const shapeText = (shape) => shape.join("×");

function legend(kind) {
  const box = document.createElement("div");
  box.className = "li-legend";
  box.innerHTML = `<span class="lo"></span><canvas width="256" height="1" data-scale="${kind}"></canvas><span class="hi"></span>`;
  return box;
}

/** Build one figure per layer and the layer table, once, from the first result's metadata. */
function build(result) {
  built = {};
  layersBox.querySelectorAll("figure").forEach((figure) => figure.remove()); // keeps the detail
  tableBody.replaceChildren();
  for (const layer of result.layers) {
    const figure = document.createElement("figure");
    figure.className = "li-layer";
    figure.dataset.layer = layer.name;
    figure.dataset.maps = layer.maps;
    figure.dataset.kind = layer.kind;
    const units = layer.tile[0] === 1 && layer.tile[1] === 1;
    figure.classList.toggle("units", units);
    figure.classList.toggle("single", layer.maps === 1);
    const params = layer.params ? ` · ${layer.params.toLocaleString("en")} params` : "";
    figure.innerHTML = `<figcaption><b>${layer.name}</b> ${layer.kind} · ${shapeText(layer.shape)}${params}</figcaption>
      <div class="li-grid-box"><canvas class="li-grid" tabindex="0" role="img"></canvas><i class="li-marker" hidden></i></div>`;
    if (layer.labels) {
      const labels = document.createElement("div");
      labels.className = "li-labels";
      labels.setAttribute("aria-hidden", "true");
      labels.innerHTML = layer.labels.map((label) => `<span>${label}</span>`).join("");
      figure.querySelector(".li-grid-box").after(labels);
    }
    figure.append(legend("sequential"));
    const canvas = figure.querySelector("canvas.li-grid");
    canvas.dataset.testid = `grid-${layer.name}`;
    canvas.style.aspectRatio = `${layer.width} / ${layer.height}`;
    canvas.setAttribute(
      "aria-label",
      `${layer.name}: ${layer.maps} ${units ? "units" : "maps"} of ${shapeText(layer.tile.slice().reverse())}. ` +
        "Arrow keys or tap choose one to enlarge.",
    );
    const marker = figure.querySelector(".li-marker");
    // Hover browses within the layer already enlarged; a click / tap / focus picks the layer
    // (moving the enlargement on mere hover would shift the grids under the pointer).
    canvas.addEventListener("pointermove", (e) => selected.layer === layer.name && pick(layer.name, e));
    canvas.addEventListener("click", (e) => pick(layer.name, e));
    canvas.addEventListener("focus", () => select(layer.name, selected.layer === layer.name ? selected.index : 0));
    canvas.addEventListener("keydown", (e) => step(layer.name, e));
    layersBox.append(figure);
    built[layer.name] = { figure, canvas, marker, lo: figure.querySelector(".lo"), hi: figure.querySelector(".hi") };

    const row = document.createElement("tr");
    row.innerHTML = `<th scope="row">${layer.name}</th><td>${layer.kind}${layer.activation ? ` (${layer.activation})` : ""}</td>
      <td>${shapeText(layer.shape)}</td><td>${layer.params.toLocaleString("en")}</td>`;
    tableBody.append(row);
  }
  const total = result.layers.reduce((sum, layer) => sum + layer.params, 0); // a caption, not model math
  $('[data-testid="layer-total"]').textContent = total.toLocaleString("en");
  for (const canvas of panel.querySelectorAll("canvas[data-scale]")) {
    paint(canvas, 256, 1, result.legend[canvas.dataset.scale]);
  }
}

/** The map under the pointer (grid pixels from the canvas's displayed size). */
function pick(name, event) {
  const layer = last?.layers.find((l) => l.name === name);
  if (!layer) return;
  const rect = event.currentTarget.getBoundingClientRect();
  const x = ((event.clientX - rect.left) / rect.width) * layer.width;
  const y = ((event.clientY - rect.top) / rect.height) * layer.height;
  const [w, h] = layer.tile;
  const index = layer.corners.findIndex(([cx, cy]) => x >= cx && x < cx + w + 1 && y >= cy && y < cy + h + 1);
  if (index >= 0) select(name, index);
}

function step(name, event) {
  const layer = last?.layers.find((l) => l.name === name);
  if (!layer) return;
  const cols = layer.corners.filter(([, y]) => y === layer.corners[0][1]).length;
  const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols, Home: -Infinity, End: Infinity };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const index = selected.layer === name ? selected.index : 0;
  select(name, Math.min(layer.maps - 1, Math.max(0, index + moves[event.key])));
}

function select(name, index) {
  selected = { layer: name, index };
  showDetail();
}

/** The enlarged map (cropped from its painted grid) and, for conv1, its 3x3 kernel. */
function showDetail() {
  for (const { marker } of Object.values(built ?? {})) marker.hidden = true;
  const layer = last?.layers.find((l) => l.name === selected.layer);
  if (!layer) {
    detail.hidden = true;
    return;
  }
  detail.hidden = false;
  const { canvas, marker, figure } = built[layer.name];
  // The enlargement sits right below the chosen layer (on a phone: next to what was tapped).
  if (detail.previousElementSibling !== figure) figure.after(detail);
  const [x, y] = layer.corners[selected.index];
  const [w, h] = layer.tile;
  Object.assign(marker.style, {
    left: `${(x / layer.width) * 100}%`,
    top: `${(y / layer.height) * 100}%`,
    width: `${(w / layer.width) * 100}%`,
    height: `${(h / layer.height) * 100}%`,
  });
  marker.hidden = false;
  const big = detail.querySelector('[data-testid="enlarged"]');
  big.width = w;
  big.height = h;
  big.getContext("2d").drawImage(canvas, x, y, w, h, 0, 0, w, h);
  big.style.aspectRatio = `${w} / ${h}`;
  const units = w === 1 && h === 1;
  const label = layer.labels ? `digit ${layer.labels[selected.index]}` : `${units ? "unit" : "map"} ${selected.index + 1} of ${layer.maps}`;
  detail.querySelector(".li-detail-title").textContent = `${layer.name}, ${label}: peak ${fmt(layer.peak[selected.index])}`;
  const kernelBox = detail.querySelector(".li-kernel");
  kernelBox.hidden = !layer.kernels;
  if (layer.kernels) {
    const k = layer.kernels;
    const [kx, ky] = k.corners[selected.index];
    const [kw, kh] = k.tile;
    const off = document.createElement("canvas");
    paint(off, k.width, k.height, k.rgba);
    const kc = kernelBox.querySelector("canvas");
    kc.width = kw;
    kc.height = kh;
    kc.getContext("2d").drawImage(off, kx, ky, kw, kh, 0, 0, kw, kh);
    const values = k.values[selected.index];
    kernelBox.querySelector("table").innerHTML = values
      .map((row) => `<tr>${row.map((v) => `<td>${v.toFixed(2)}</td>`).join("")}</tr>`)
      .join("");
    kernelBox.querySelector(".bias").textContent = k.bias ? `bias ${k.bias[selected.index].toFixed(2)}` : "";
    kernelBox.querySelector(".lo").textContent = fmt(k.lo);
    kernelBox.querySelector(".hi").textContent = fmt(k.hi);
  }
}

/** Paint one update. Layers are built from the first result; later results only repaint. */
export function render(result) {
  const start = performance.now();
  stats.renders += 1;
  if (!built || Object.keys(built).join() !== result.layers.map((l) => l.name).join()) build(result);
  last = result;
  panel.dataset.state = "live";
  for (const layer of result.layers) {
    const b = built[layer.name];
    paint(b.canvas, layer.width, layer.height, layer.rgba);
    b.lo.textContent = fmt(layer.lo);
    b.hi.textContent = fmt(layer.hi);
    b.figure.dataset.active = layer.peak.filter((p) => p > 0).length;
  }
  const why = result.why;
  paint(whyCanvas, why.width, why.height, why.rgba);
  whyCanvas.dataset.copies = why.copies;
  whyCanvas.closest("section").toggleAttribute("data-stale", why.stale);
  for (const el of panel.querySelectorAll("[data-why-top]")) el.textContent = why.top;
  for (const el of panel.querySelectorAll("[data-why-patch]")) el.textContent = `${why.patch}×${why.patch}`;
  $(".li-why .lo").textContent = fmt(why.lo);
  $(".li-why .hi").textContent = fmt(why.hi);
  if (selected.layer) showDetail();
  if (why.stale) wanted.forEach((fn) => fn()); // the app coalesces this with pending strokes
  // A benchmark sets stats.log = [] to record each render's time and stage timings.
  stats.log?.push({ t: performance.now(), paint_ms: performance.now() - start, ...(result.timings ?? {}) });
}

/** The model has no activation outputs: say so in the panel instead of showing empty grids. */
export function unavailable(message) {
  panel.dataset.state = "unavailable";
  panel.querySelector(".li-intro").textContent = message;
}

export function clear() {
  stats.clears += 1;
  panel.dataset.state = "empty";
  last = null;
  for (const b of Object.values(built ?? {})) {
    b.canvas.getContext("2d").clearRect(0, 0, b.canvas.width, b.canvas.height);
    b.figure.dataset.active = 0;
    b.marker.hidden = true;
  }
  whyCanvas.getContext("2d").clearRect(0, 0, whyCanvas.width, whyCanvas.height);
  detail.hidden = true;
}
