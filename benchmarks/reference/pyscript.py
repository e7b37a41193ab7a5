"""Benchmark reference (b): the floor of a PyScript page that needs numpy, then ready."""

import js
import numpy

js.document.getElementById("status").textContent = f"ready: numpy {numpy.__version__}"
js.document.body.dataset.state = "ready"
