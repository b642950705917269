"""Trained models on disk: store, cards, ONNX export, inference; one lock per model, atomic writes, checksums."""
