/**
 * Start-up failures in words for people: what went wrong, in one plain sentence, and the
 * technical detail kept apart (a collapsed <details> on the page, and the console).
 */

const CAUSES = [
  {
    test: /WebAssembly is not available/,
    message:
      "This browser cannot run WebAssembly, which the recogniser needs. " +
      "Try a current Chrome, Firefox, Safari or Edge, or enable WebAssembly.",
  },
  {
    // The model file arrived but is not the one model.json describes.
    test: /corrupt|sha256|does not match/i,
    message: "The recogniser's model file arrived damaged. Reloading usually fixes it.",
  },
  {
    // fetch() failures, HTTP errors, and runtime files that arrived as something else.
    test: /download|fetch|HTTP \d|network|Failed to load|NetworkError|magic word|CompileError/i,
    message:
      "Part of the app could not be downloaded. Check your connection, then try again.",
  },
];

const GENERIC = "The recogniser could not start in this browser. Try again, or use a current browser.";

/** {message, detail} for an error (an Error, a string or anything thrown). */
export function explain(error) {
  const detail = String(error?.stack ?? error?.message ?? error ?? "unknown error").trim();
  const cause = CAUSES.find(({ test }) => test.test(detail));
  return { message: cause?.message ?? GENERIC, detail };
}
