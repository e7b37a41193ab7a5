"""Extra training drawings: exported drawings files (``--extra FILE ...``) into the build.

People collect drawings in the browser ("Download my drawings", site/drawings.py format); the
build renders each one exactly like the app's model canvas (``drawings.render_drawing``) and
sends it through the same ``preprocess.py``, so they train and score on what the app would see.

Every ``HOLDOUT_EVERY``-th drawing (in file order) is held out: never trained on, scored in the
model card as "extra drawings (held out)". The rest join the raw training digits every epoch,
each repeated ``REPEAT`` times (the random per-epoch shift makes the copies differ): a few
hundred personal drawings would otherwise vanish among ~95k digits per epoch. All are also
scored as "extra drawings (all, incl. trained)". A bad file stops the build with its name and
the reason before any training starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from build_model.augment import SITE_DIR, _import_preprocess
from build_model.evaluate import Evaluation, predict_onnx, score

#: Hold out every n-th drawing for an honest score (none when fewer than n drawings).
HOLDOUT_EVERY = 5
#: Copies of each extra training drawing per epoch.
REPEAT = 10


class ExtraDrawingsError(ValueError):
    """An --extra file is missing, unreadable or not a valid drawings file."""


@dataclass
class ExtraSet:
    """Preprocessed extra drawings: (N,28,28,1) float32 inputs, (N,) labels, held-out mask."""

    x: np.ndarray
    y: np.ndarray
    held_out: np.ndarray
    files: list[Path]

    def add_to_training(
        self, x_raw: np.ndarray, y_raw: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The raw training arrays plus REPEAT copies of every extra drawing not held out."""
        train = ~self.held_out
        if not train.any():
            return x_raw, y_raw
        x = np.concatenate([x_raw, np.repeat(self.x[train], REPEAT, axis=0)])
        y = np.concatenate([y_raw, np.repeat(self.y[train], REPEAT)])
        return x, y.astype(y_raw.dtype)

    def evaluate(self, session) -> list[Evaluation]:
        """Model-card rows: held-out extra drawings (if any) and all of them."""
        if not len(self.y):
            return []
        probs = predict_onnx(session, self.x)
        rows = []
        if self.held_out.any():
            rows.append(
                score("extra drawings (held out)", probs[self.held_out], self.y[self.held_out])
            )
        rows.append(score("extra drawings (all, incl. trained)", probs, self.y))
        return rows

    def describe(self) -> str:
        """One line for the card's training-set description and the log."""
        return (
            f"{len(self.y)} extra drawings from {len(self.files)} file(s) "
            f"({int(self.held_out.sum())} held out, the rest x{REPEAT} per epoch)"
        )


def load(files: list[Path]) -> ExtraSet:
    """Read, validate, render and preprocess every drawing of ``files`` (all or nothing)."""
    preprocess = _import_preprocess()  # the site/ copy, checked
    import drawings  # site/ is first on sys.path now

    if Path(drawings.__file__).resolve() != SITE_DIR / "drawings.py":
        raise ImportError(f"drawings imported from {drawings.__file__}, not {SITE_DIR}")
    xs, ys = [], []
    for path in files:
        try:
            items = drawings.parse_file(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise ExtraDrawingsError(f"--extra {path}: {exc}") from exc
        for i, item in enumerate(items):
            try:
                xs.append(preprocess.preprocess_canvas(drawings.render_drawing(item)))
            except ValueError as exc:  # e.g. no ink left at the model canvas's size
                raise ExtraDrawingsError(f"--extra {path}: drawing #{i + 1}: {exc}") from exc
            ys.append(item["label"])
    x = np.concatenate(xs).astype(np.float32) if xs else np.zeros((0, 28, 28, 1), np.float32)
    y = np.asarray(ys, dtype=np.int64)
    held_out = np.zeros(len(y), dtype=bool)
    if len(y) >= HOLDOUT_EVERY:
        held_out[HOLDOUT_EVERY - 1 :: HOLDOUT_EVERY] = True
    return ExtraSet(x, y, held_out, [Path(f) for f in files])
