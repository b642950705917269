"""Faults outside the user's control: a training process killed mid-run leaves a usable model."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from kmnist.registry import store
from kmnist.registry.cards import Status
from tests.conftest import ROOT


@pytest.mark.real_data
def test_killed_training_leaves_best_checkpoint_and_a_card_saying_interrupted(data_dir, tmp_path):
    model = tmp_path / "crash.keras"
    process = subprocess.Popen(
        [sys.executable, "-m", "kmnist", "train", "--epochs", "30", "--limit", "800", "--batch-size", "32",
         "--data", str(data_dir), "--out", str(model)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=os.environ)
    try:
        card_file = store.card_path(model)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # wait for the second checkpoint, then pull the plug
            if card_file.exists() and json.loads(card_file.read_text()).get("best_epoch", 0) >= 2:
                break
            assert process.poll() is None, "training ended before it could be interrupted"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)  # like a server restart: no chance to clean up
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    card = store.read_card(model)
    assert card.status is Status.TRAINING and card.best_epoch >= 2
    assert store.load_model(model).output_shape == (None, 10)  # the checkpoint is whole
    entry = next(e for e in store.list_models(tmp_path) if e.name == "crash")
    assert entry.usable and "interrupted" in entry.problem
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crash.card.json", "crash.keras"]
