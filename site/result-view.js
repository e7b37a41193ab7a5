/**
 * The single-digit view: the answer and its verdict, the ten probability bars and the 28×28
 * image the model saw. It shows one digit of the worker's reading (the only one, or the one
 * the user picked in a number), or nothing.
 *
 * DOM contract: [data-testid=prediction] holds the digit (empty for "not-a-digit" and "empty")
 * with data-verdict = digit | unsure | not-a-digit | empty and data-confidence; each bar of
 * [data-testid=probabilities] has data-p.
 */

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const prediction = $("prediction");
const confidence = $("confidence");
const barList = $("probabilities");
const bars = [...barList.querySelectorAll("[data-digit]")];
const preview = $("preview").getContext("2d");

const percent = (p) => `${Math.round(p * 100)}%`;

/**
 * Show `digit` ({digit, confidence, probs: 10 floats, image: 784 floats, verdict}) under
 * `verdict` (the drawing's). Returns the sentence a screen reader should hear.
 */
export function showDigit(digit, verdict = digit.verdict) {
  const { probs } = digit;
  const ranked = [...probs.keys()].sort((a, b) => probs[b] - probs[a]);
  const [best, second] = ranked;
  prediction.dataset.verdict = verdict;
  prediction.dataset.confidence = probs[best].toFixed(4);
  prediction.textContent = verdict === "not-a-digit" ? "" : String(best);
  prediction.classList.toggle("unsure", verdict === "unsure");
  barList.classList.toggle("dim", verdict === "not-a-digit");
  for (const bar of bars) {
    const p = probs[Number(bar.dataset.digit)];
    bar.dataset.p = p.toFixed(4);
    bar.style.setProperty("--p", p);
    bar.classList.toggle("best", Number(bar.dataset.digit) === best && verdict !== "not-a-digit");
    bar.querySelector("b").textContent = percent(p);
  }
  drawPreview(digit.image);
  let text;
  if (verdict === "not-a-digit") text = "That doesn't look like a digit";
  else if (verdict === "unsure") {
    text = `Not sure: ${best} (${percent(probs[best])}) or ${second} (${percent(probs[second])})`;
  } else text = `${percent(probs[best])} sure`;
  confidence.textContent = text;
  return verdict === "digit" ? `${best}, ${text}` : text;
}

/** Show no digit: an empty canvas, or ink that cannot be read (`verdict` says which). */
export function showNothing(verdict = "empty", message = "Draw a digit") {
  prediction.dataset.verdict = verdict;
  prediction.dataset.confidence = "0";
  prediction.textContent = "";
  prediction.classList.remove("unsure");
  barList.classList.toggle("dim", verdict !== "empty");
  confidence.textContent = message;
  for (const bar of bars) {
    bar.dataset.p = "0";
    bar.style.setProperty("--p", 0);
    bar.classList.remove("best");
    bar.querySelector("b").textContent = "0%";
  }
  preview.clearRect(0, 0, 28, 28);
  return verdict === "empty" ? "Canvas empty" : message;
}

function drawPreview(image) {
  const pixels = preview.createImageData(28, 28);
  for (let i = 0; i < 784; i++) pixels.data[i * 4 + 3] = Math.round(image[i] * 255);
  preview.putImageData(pixels, 0, 0);
}
