"""Scripts run in the peer venv (PyTorch, transformers, ONNX Runtime) and the
numpy-only helpers they share with the TensorFlow side."""
