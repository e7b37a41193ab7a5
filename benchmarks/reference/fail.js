/**
 * Benchmark reference pages: a start-up failure ends the measurement at once with its message
 * (<body data-state="error">), not after the benchmark's timeout. A file, not an inline script:
 * the site's Content-Security-Policy (served on every response) allows no inline scripts.
 */
const fail = (message) => {
  document.body.dataset.state = "error";
  document.getElementById("status").textContent = String(message);
};
addEventListener("error", (e) => fail(e.message));
addEventListener("unhandledrejection", (e) => fail(e.reason?.message ?? e.reason));
