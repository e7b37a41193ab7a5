"""Offline training step of MNIST-Draw: ``python -m build_model`` builds site/model/.

One module per stage: data (fetch + verify MNIST), model (the reference CNN), augment (canvas
renderings through the app's preprocess.py), train, export (ONNX + contract), evaluate, card.
"""
