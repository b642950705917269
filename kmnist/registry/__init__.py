"""Trained models on disk: store, cards, ONNX export, inference, locks, atomic writes, checksums."""
