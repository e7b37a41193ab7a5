"""Stage 2 — the reference CNN (159,254 parameters), unchanged from the original app.

Layer names (the model.json v2 contract): conv1, pool1, conv2, conv3, pool2, flatten, features,
probs. Input(28,28,1) → Conv2D(32,3,relu) → MaxPool2 → Conv2D(64,3,relu) → Conv2D(64,3,relu)
→ MaxPool2 → Flatten → Dense(100,relu) → Dense(10,softmax). Input is NHWC float32 in [0, 1]
with 1 = ink.
"""

from __future__ import annotations

import keras

#: Layers whose outputs the exported ONNX exposes (model.json v2 "outputs"), in the order the
#: ONNX graph lists them: the per-stroke pair first, then the "Look inside" activations.
OUTPUT_LAYERS = ("probs", "features", "conv1", "pool1", "conv2", "conv3", "pool2")
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
            layers.Conv2D(32, 3, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),
            layers.Conv2D(64, 3, activation="relu", name="conv3"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(100, activation="relu", name="features"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="probs"),
        ],
        name="mnist_cnn",
    )
    params = model.count_params()
    assert params == EXPECTED_PARAMS, f"reference CNN has {params} params, want {EXPECTED_PARAMS}"
    return model


def tap_model(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s weights that returns OUTPUT_LAYERS' outputs as a list."""
    return keras.Model(
        model.inputs, [model.get_layer(name).output for name in OUTPUT_LAYERS], name="mnist_taps"
    )
