"""The command line: `python -m kmnist ...` in a subprocess as a user runs it, or, where TensorFlow is needed
after the first run, through the same entry point in this test process (a subprocess imports it again:
about 6 CPU-s each)."""

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kmnist.commands import cli
from kmnist.data import files as kdata
from kmnist.data import origins
from kmnist.network.recipes import RECIPES, recipe
from tests.conftest import ROOT


def kmnist(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "kmnist", *map(str, args)], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout, env=os.environ | (env or {}))


def kmnist_here(*args, env=None) -> subprocess.CompletedProcess:
    """`python -m kmnist ARGS` through kmnist.commands.cli.main in this process, `env` added to the
    environment while it runs; its exit status and output as a subprocess would give them."""
    out, err, saved = io.StringIO(), io.StringIO(), dict(os.environ)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main([str(arg) for arg in args])
            except SystemExit as exit_:  # argparse's own exits
                status = exit_.code
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(["python", "-m", "kmnist", *map(str, args)], status, out.getvalue(),
                                       err.getvalue())


def one_line_error(result):
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return result.returncode == 2 and len(lines) == 1 and lines[0]


@pytest.mark.real_data
def test_fetch_prints_provenance(data_dir):
    result = kmnist("fetch", "--data", data_dir)
    assert result.returncode == 0 and "NOT the official KMNIST release" in result.stdout


def test_fetch_offline_without_data_fails_in_one_line(tmp_path):
    result = kmnist("fetch", "--data", tmp_path / "empty", env={"KMNIST_MIRROR": "http://127.0.0.1:9/"})
    assert "could not download kmnist-train-imgs.npz" in one_line_error(result)


@pytest.mark.parametrize("args, reason", [
    (["train", "--epochs", "0", "--out", "x.keras"], "must be at least 1"),
    (["train", "--epochs", "abc", "--out", "x.keras"], "--epochs: must be a whole number of at least 1"),
    (["train", "--pooling", "median", "--out", "x.keras"], "invalid choice: 'median'"),
    (["train", "--epochs", "2"], "required: --out"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_fail_in_one_line(args, reason):
    error = one_line_error(kmnist(*args))
    assert reason in error
    command = "train" if args[0] == "train" else None  # the help it points to is that of a real command
    assert error.endswith(f"(see `python -m kmnist {command + ' ' if command else ''}--help`)")


def test_a_model_path_without_its_suffix_names_its_keras_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KMNIST_MODELS", str(tmp_path))
    assert cli._model_path("models/studio-max") == Path("models/studio-max.keras")  # not "file is gone"
    assert cli._model_path("folder/m.keras") == Path("folder/m.keras")
    assert cli._model_path("studio-max") == tmp_path / "studio-max.keras"  # a name: in the models folder


def test_bad_data_dir_fails_in_one_line(tmp_path):
    result = kmnist("evaluate", tmp_path / "m.keras", "--data", tmp_path / "nowhere")
    assert "not found" in one_line_error(result) or "does not exist" in one_line_error(result)


def test_corrupt_model_fails_in_one_line(tmp_path):
    (tmp_path / "bad.keras").write_bytes(b"garbage")
    result = kmnist("predict", tmp_path / "bad.keras", tmp_path / "x.png")
    assert "bad.keras is corrupt" in one_line_error(result)


@pytest.mark.real_data
def test_train_evaluate_predict(data_dir, kmnist_data, tmp_path):
    model = tmp_path / "cli.keras"
    result = kmnist("train", "--pooling", "avg", "--epochs", "2", "--limit", "3000", "--batch-size", "64",
                    "--data", data_dir, "--out", model)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "epoch 2/2" in result.stdout and "val_auc" in result.stdout and "test accuracy" in result.stdout
    card = json.loads(model.with_name("cli.card.json").read_text())
    assert card["config"]["pooling"] == "avg" and card["config"]["seed"] == RECIPES["studio"].seed
    assert "directory" not in card["data"] and str(data_dir) not in json.dumps(card)  # no machine paths
    assert card["data"]["name"] == data_dir.name

    again = kmnist_here("train", "--epochs", "1", "--data", data_dir, "--out", model)
    assert "already exists" in one_line_error(again)

    scores = kmnist_here("evaluate", model, "--data", data_dir, "--json")
    assert scores.returncode == 0, scores.stderr[-2000:]
    report = json.loads(scores.stdout)
    assert 0.5 < report["accuracy"] <= 1 and len(report["per_class_accuracy"]) == 10
    assert report["data"]["official"] is False

    # on the other shared copy, the images it trained or validated on are left out, and it says so
    other = ROOT.parent / "shared" / ("kmnist-subset" if data_dir.name == "kmnist-offline"
                                      else "kmnist-offline")
    seen = np.concatenate([origins.decode(r)[1] for r in card["data"]["images"].values()])
    positions = kdata.load(other).origins["test"].positions
    expected = int(np.isin(positions, seen).sum())
    assert expected > 0  # the two copies share official test images
    text = kmnist_here("evaluate", model, "--data", other).stdout
    assert (f"on the {len(positions) - expected:,} official test images cli never saw; {expected:,} it "
            "trained or validated on are left out") in text

    # a drawing as a user would save it: dark ink on white paper, 280x280, plus a blank page
    files = []
    for index in range(4):
        ink = np.asarray(Image.fromarray(kmnist_data.x_test[index]).resize((280, 280)))
        files.append(tmp_path / f"drawing{index}.png")
        Image.fromarray(255 - ink).convert("RGB").save(files[-1])
    blank = tmp_path / "blank.png"
    Image.new("RGB", (280, 280), "white").save(blank)
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    result = kmnist_here("predict", model, *files, blank, not_image, "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in [*files, blank, not_image]]
    assert "answered by ONNX Runtime" in result.stderr  # training wrote the model's ONNX twin
    for line in lines[:4]:
        assert line["engine"] == "ONNX Runtime"
        assert len(line["top"]) == 3 and line["top"][0]["prob"] >= line["top"][1]["prob"]
        assert set(line["top"][0]) >= {"class", "char", "prob"}
    hits = sum(line["top"][0]["class"] == kmnist_data.y_test[i] for i, line in enumerate(lines[:4]))
    assert hits >= 2
    assert "no strokes" in lines[4]["error"] and "unreadable" in lines[5]["error"]
    assert lines[4]["error"].startswith("the image shows no strokes")  # a file, not the pad: nothing to clear
    assert "clear it" not in lines[4]["error"]

    model.with_name("cli.onnx").unlink()  # without its twin, Keras answers and the reason is printed
    result = kmnist_here("predict", model, files[0])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("answered by Keras (cli.onnx is missing")
    assert "python -m kmnist export" in result.stdout and lines[0]["top"][0]["char"] in result.stdout


@pytest.mark.real_data
def test_a_recipe_sets_every_setting_and_options_override_it(data_dir, tmp_path):
    model = tmp_path / "classic.keras"
    result = kmnist_here("train", "--recipe", "classic", "--epochs", "1", "--limit", "300", "--patience", "2",
                         "--data", data_dir, "--out", model)
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads(model.with_name("classic.card.json").read_text())["config"]
    assert config == asdict(recipe("classic", epochs=1, limit=300, patience=2))
    assert config["optimizer"] == "adadelta" and config["augment"] is False  # the classic CNN's own recipe
