"""Stage 2 — the reference CNN (159,254 parameters), unchanged from the original app.

Input(28,28,1) → Conv2D(32,3,relu) → MaxPool2 → Conv2D(64,3,relu) → Conv2D(64,3,relu) → MaxPool2
→ Flatten → Dense(100,relu) → Dense(10,softmax). Input is NHWC float32 in [0, 1] with 1 = ink.
"""

from __future__ import annotations

import keras

#: Parameter count of the reference architecture; build_cnn() asserts it.
EXPECTED_PARAMS = 159_254
INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def build_cnn() -> keras.Model:
    """Build (uncompiled) the reference CNN. Seed with keras.utils.set_random_seed first."""
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE, name="input"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(100, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mnist_cnn",
    )
    params = model.count_params()
    assert params == EXPECTED_PARAMS, f"reference CNN has {params} params, want {EXPECTED_PARAMS}"
    return model
