"""Build the shipped model: data → canvas renders → train → export → evaluate → card.

    python -m build_model [--epochs N] [--seed S] [--out site/model] [--data DIR] [--quick]
                          [--extra FILE [FILE ...]]

``--extra`` adds drawings files exported by the app to training and scores them separately in
the model card (build_model/extra.py).

``--quick`` trains 1 epoch on a few thousand digits with a small canvas test set (a smoke test
for the whole pipeline, < 1 minute); it must write to an explicit ``--out`` other than the
shipped model folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Quieter TensorFlow start-up; must be set before tensorflow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from build_model import augment, data, extra, train  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: Where the shipped model lives.
DEFAULT_OUT = REPO / "site" / "model"
#: Digits of the MNIST test set used for the Keras/onnxruntime parity check.
PARITY_DIGITS = 1_000
#: --quick sizes: training digits (incl. validation), validation digits, canvas test digits,
#: MNIST test digits scored.
QUICK_TRAIN, QUICK_VAL, QUICK_CANVAS_TEST, QUICK_MNIST_TEST = 2_000, 300, 300, 2_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m build_model", description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=None, help=f"default {train.EPOCHS}")
    p.add_argument("--seed", type=int, default=train.SEED)
    p.add_argument("--out", type=Path, default=None, help=f"default {DEFAULT_OUT}")
    p.add_argument("--data", type=Path, default=None, help=f"default {data.DEFAULT_DATA_DIR}")
    p.add_argument("--quick", action="store_true", help="tiny smoke-test build")
    p.add_argument("--no-cache", action="store_true", help="re-render canvas sets, no disk cache")
    p.add_argument(
        "--extra",
        nargs="+",
        type=Path,
        default=[],
        metavar="FILE",
        help='drawings files exported by the app ("Download my drawings")',
    )
    args = p.parse_args(argv)
    if args.quick and (args.out is None or args.out.resolve() == DEFAULT_OUT.resolve()):
        p.error("--quick needs an explicit --out other than the shipped site/model")
    args.out = args.out or DEFAULT_OUT
    args.epochs = args.epochs or (1 if args.quick else train.EPOCHS)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the build; return the process exit code."""
    args = parse_args(argv)
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.1f}s] {msg}", flush=True)

    try:
        extra_set = extra.load(args.extra)  # before the slow part: a bad file stops at once
    except extra.ExtraDrawingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.extra:
        log(extra_set.describe())
    log(f"loading MNIST ({args.data or data.DEFAULT_DATA_DIR})")
    train_images, train_labels = data.load_mnist("train", args.data)
    test_images, test_labels = data.load_mnist("test", args.data)
    if args.quick:
        pick = np.random.default_rng(args.seed).permutation(len(train_images))[:QUICK_TRAIN]
        train_images, train_labels = train_images[pick], train_labels[pick]
        val_size, n_canvas_test = QUICK_VAL, QUICK_CANVAS_TEST
    else:
        val_size, n_canvas_test = train.VAL_SIZE, len(test_images)
    fit_images, fit_labels = train_images[:-val_size], train_labels[:-val_size]
    val_images, val_labels = train_images[-val_size:], train_labels[-val_size:]
    cache = None if (args.quick or args.no_cache) else augment.CANVAS_CACHE_DIR

    t0 = time.perf_counter()
    render_cached = cache is not None and all(
        (cache / f"{name}-{augment.cache_key(images, args.seed + k, cfg)}.npy").is_file()
        for name, images, k, cfg in [
            ("train", fit_images, 0, augment.TRAIN_CONFIG),
            ("val", val_images, 1, augment.TEST_CONFIG),
            ("test", test_images[:n_canvas_test], 2, augment.TEST_CONFIG),
            ("test-warped", test_images[:n_canvas_test], 3, augment.TRAIN_CONFIG),
        ]
    )
    log(f"rendering {len(fit_images)} training canvases (cache: {cache}, hit: {render_cached})")
    x_canvas = augment.render_dataset_cached(
        "train", fit_images, args.seed, augment.TRAIN_CONFIG, cache
    )
    log(f"rendering {len(val_images)} validation + {n_canvas_test} test canvases")
    x_val_canvas = augment.render_dataset_cached(
        "val", val_images, args.seed + 1, augment.TEST_CONFIG, cache
    )
    canvas_test_images = test_images[:n_canvas_test]
    canvas_test_labels = test_labels[:n_canvas_test]
    x_test_canvas = augment.render_dataset_cached(
        "test", canvas_test_images, args.seed + 2, augment.TEST_CONFIG, cache
    )
    x_test_warped = augment.render_dataset_cached(
        "test-warped", canvas_test_images, args.seed + 3, augment.TRAIN_CONFIG, cache
    )
    render_seconds = time.perf_counter() - t0

    from build_model import card, evaluate, export  # imports TensorFlow (slow)

    cfg = train.TrainConfig(seed=args.seed, epochs=args.epochs)
    if args.quick:
        cfg.canvas_per_epoch = len(x_canvas)
    fit_labels = np.asarray(fit_labels, dtype=np.int64)
    x_raw, y_raw = extra_set.add_to_training(train.normalize(fit_images), fit_labels)
    train_data = train.TrainData(
        x_raw=x_raw,
        y_raw=y_raw,
        x_canvas=x_canvas,
        y_canvas=fit_labels,
        x_val_raw=train.normalize(val_images),
        y_val=np.asarray(val_labels, dtype=np.int64),
        x_val_canvas=x_val_canvas,
    )
    log(f"training: {cfg}")
    result = train.train(train_data, cfg, log=log)
    log(f"training took {result.seconds / 60:.1f} min; kept epoch {result.best_epoch}")

    x_test = train.normalize(test_images)
    exported = export.export_model(result.model, args.out, x_test[:PARITY_DIGITS])
    if args.quick:
        x_test, test_labels = x_test[:QUICK_MNIST_TEST], test_labels[:QUICK_MNIST_TEST]
    log(
        f"wrote {exported.onnx_path} ({exported.bytes:,} bytes, sha256 {exported.sha256[:12]}…, "
        f"parity max|diff| {exported.max_abs_diff:.1e})"
    )

    session = evaluate.onnx_session(exported.onnx_path)
    mnist = evaluate.score("MNIST test", evaluate.predict_onnx(session, x_test), test_labels)
    canvas_eval = evaluate.score(
        "canvas test", evaluate.predict_onnx(session, x_test_canvas), canvas_test_labels
    )
    warped = evaluate.score(
        "canvas test + rotation/shear/aspect",
        evaluate.predict_onnx(session, x_test_warped),
        canvas_test_labels,
    )
    extra_evals = extra_set.evaluate(session)
    for ev in (mnist, canvas_eval, warped, *extra_evals):
        log(f"{ev.name}: {ev.accuracy:.2%} of {ev.count}")

    settings = {
        "batch_size": cfg.batch_size,
        "optimizer": f"Adam, warm-up 1 epoch to {cfg.learning_rate:g}, cosine to "
        f"{cfg.learning_rate * cfg.lr_floor:g}",
        "canvas_per_epoch": cfg.canvas_per_epoch,
        "random_shift_px": f"raw ±{cfg.shift_raw}, canvas ±{cfg.shift_canvas}",
        "train_render_config": augment.TRAIN_CONFIG,
        "test_render_config": augment.TEST_CONFIG,
    }
    written = card.write_card(
        args.out,
        card.CardInputs(
            export=exported,
            params=result.model.count_params(),
            seed=args.seed,
            epochs=cfg.epochs,
            best_epoch=result.best_epoch,
            history=result.history,
            mnist=mnist,
            canvas=canvas_eval,
            extra=[warped, *extra_evals],
            train_seconds=result.seconds,
            render_seconds=render_seconds,
            render_cached=render_cached,
            total_seconds=time.perf_counter() - t_start,
            train_size=(
                f"{len(fit_images):,} raw digits + {len(x_canvas):,} canvas renderings "
                f"(validation: last {val_size:,} of the training set, raw and rendered)"
                + (f"; {extra_set.describe()}" if args.extra else "")
            ),
            settings=settings,
            quick=args.quick,
        ),
    )
    log(f"wrote {', '.join(str(p) for p in written)}")
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
