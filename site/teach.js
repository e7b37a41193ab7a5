/**
 * Mounts "Teach it your handwriting" (teach-view.js) on the page app.js set up: the drawing on
 * screen comes from `window.mnistDraw.drawing`; the view is published as the promise
 * `window.mnistDraw.teaching`. Whoever runs the model sets `view.onChange` (records ->
 * learn.Personalizer, see learn.TaughtSet) and `view.modelSha256`. A module of its own so that
 * app.js needs no change; it runs after app.js (module scripts run in document order).
 */
import { drawingFromStrokes, mountTeachView } from "./teach-view.js";

const { drawing } = window.mnistDraw;
window.mnistDraw.teaching = mountTeachView({
  current: () => (drawing.isEmpty ? null : drawingFromStrokes(drawing.strokes)),
});
