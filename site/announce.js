/**
 * What a screen reader hears about results: one settled sentence per drawing.
 *
 * The prediction on screen changes with every pointer move; announcing each would flood the
 * listener (~70 announcements for one 8). Here nothing is spoken while the pen is down, and a
 * result is spoken only once the pen is up, the prediction has caught up with the drawing and
 * nothing has changed for SETTLE_MS. Nothing is spoken at load.
 */

/** Quiet time after the last change before the answer is spoken: long enough to bridge the gap
 * between the strokes of a 4 or a 7 drawn in one go, short enough to feel immediate. */
export const SETTLE_MS = 700;

export class Announcer {
  /** @param {HTMLElement} region a visually hidden element with aria-live="polite" */
  constructor(region) {
    this.region = region;
    this.timer = 0;
  }

  /** Something is still changing (the pen is down): drop any pending announcement. */
  hold() {
    clearTimeout(this.timer);
    this.timer = 0;
  }

  /** Speak `text` once nothing else has happened for SETTLE_MS. */
  sayWhenQuiet(text) {
    this.hold();
    this.timer = setTimeout(() => this.#say(text), SETTLE_MS);
  }

  #say(text) {
    // The same sentence twice in a row is not a change to a live region: vary it invisibly.
    const same = this.region.textContent.trimEnd() === text;
    this.region.textContent = same && !this.region.textContent.endsWith("\u00a0") ? `${text}\u00a0` : text;
  }
}
