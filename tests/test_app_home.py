"""AppTest of the Home page: introduction, data status (and download when missing), models, links."""

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kmnist.data import files as kdata
from kmnist.registry import store

PAGE = "../pages/home.py"
ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_LABELS = ROOT.parent / "shared" / "kmnist"  # the official label files, no images


def run_home(timeout: int = 120) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=timeout).run()
    assert not app.exception, app.exception
    return app


def models_table(app):
    return next(frame.value for frame in app.dataframe if "model" in frame.value.columns)


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.fixture
def empty_models(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "no-models"
    folder.mkdir()
    monkeypatch.setenv(store.MODELS_ENV, str(folder))
    return folder


def test_home_on_real_data_says_not_official(data_dir, monkeypatch, empty_models, kmnist_data):
    monkeypatch.setenv(kdata.DATA_ENV, str(data_dir))
    app = run_home()
    assert "convolutional neural networks" in app.markdown[0].value
    assert "Not the official KMNIST release" in texts(app.warning)
    sizes = kmnist_data.provenance.sizes
    assert [m.value for m in app.metric] == [f"{sizes['train']:,}", f"{sizes['test']:,}"]
    assert str(Path(data_dir).resolve()) in texts(app.markdown)
    assert not app.error and not [b for b in app.button if b.key == "download"]
    checksums = next(frame.value for frame in app.dataframe if "official" in frame.value.columns)
    assert list(checksums["file"]) == list(kdata.OFFICIAL_MD5) and not all(checksums["same"])
    assert "No trained model" in texts(app.info)
    assert "doi:10.20676/00000341" in texts(app.caption) and "CC BY-SA 4.0" in texts(app.caption)
    for title in ("Dataset explorer", "Training", "Compare runs", "Layer visualizer", "Sketch pad",
                  "Max vs average pooling"):
        assert title in texts(app.markdown) or title in str(app.get("page_link"))


def test_home_lists_trained_models(data_dir, monkeypatch, models_copy):
    monkeypatch.setenv(kdata.DATA_ENV, str(data_dir))
    app = run_home()
    table = models_table(app)
    assert list(table["model"]) == ["studio-max", "studio-avg"]  # the default model first
    assert set(table["status"]) <= {"complete", "early-stopped"}
    assert all(0 < accuracy <= 100 for accuracy in table["test accuracy"])  # percent, one decimal
    assert all(row.startswith("not official copy") for row in table["trained on"])
    assert not app.warning[1:]  # only the provenance warning: no model problems


def test_two_models_whose_accuracies_differ_never_read_alike_on_home(data_dir, monkeypatch, models_copy):
    monkeypatch.setenv(kdata.DATA_ENV, str(data_dir))
    for name, accuracy in (("studio-max", 0.9750), ("studio-avg", 0.9755)):  # 97.5 % each at one decimal
        path = models_copy / f"{name}.card.json"
        card = json.loads(path.read_text())
        card["test"]["accuracy"] = accuracy
        path.write_text(json.dumps(card))
    table = models_table(run_home())
    assert list(table["test accuracy"]) == [97.5, 97.55]


def test_home_names_model_problems(data_dir, monkeypatch, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "nocard.keras").write_bytes(b"model")
    (folder / "cut.keras").write_bytes(b"model")
    (folder / "cut.card.json").write_text(json.dumps({"status": "training", "best_epoch": 3}))
    (folder / "gone.card.json").write_text(json.dumps({"status": "complete", "test": {"accuracy": 0.9}}))
    monkeypatch.setenv(store.MODELS_ENV, str(folder))
    monkeypatch.setenv(kdata.DATA_ENV, str(data_dir))
    app = run_home()
    table = models_table(app)
    assert set(table["model"]) == {"nocard", "cut", "gone"}
    warnings = texts(app.warning)
    assert "**nocard**: no model card" in warnings
    assert "**cut**: its card says training never finished" in warnings and "epoch 3" in warnings
    assert "**gone**: card gone.card.json has no model file" in warnings


def test_home_without_data_offers_the_download(tmp_path, monkeypatch, empty_models):
    monkeypatch.setenv(kdata.DATA_ENV, str(tmp_path / "empty"))
    app = run_home()
    assert "No usable KMNIST data" in texts(app.error) and "does not exist" in texts(app.error)
    assert not app.get("page_link")  # Home shows the download itself, no link back to Home
    assert "kmnist-train-imgs.npz" in texts(app.markdown)
    assert app.button(key="download").label.endswith("Download KMNIST")


def test_download_failure_is_explained(tmp_path, monkeypatch, empty_models):
    """The mirror has the official label files but no images: the error names the missing file."""
    monkeypatch.setenv(kdata.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.setenv(kdata.MIRROR_ENV, OFFICIAL_LABELS.as_uri() + "/")
    app = run_home()
    app.button(key="download").click().run(timeout=180)
    assert not app.exception
    errors = texts(app.error)
    assert "Download failed" in errors and "could not download kmnist-train-imgs.npz" in errors
    assert kdata.missing_files(tmp_path / "data") == list(kdata.OFFICIAL_MD5)  # nothing half-done left


def test_download_fetches_and_verifies_missing_files(data_dir, tmp_path, monkeypatch, empty_models):
    """Images present, labels missing: the official labels come from the mirror, md5-checked."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("kmnist-train-imgs.npz", "kmnist-test-imgs.npz"):
        shutil.copy(data_dir / name, folder / name)
    monkeypatch.setenv(kdata.DATA_ENV, str(folder))
    monkeypatch.setenv(kdata.MIRROR_ENV, OFFICIAL_LABELS.as_uri() + "/")
    app = run_home()
    assert "kmnist-train-labels.npz, kmnist-test-labels.npz" in texts(app.markdown)
    app.button(key="download").click().run(timeout=180)
    assert not app.exception
    assert kdata.missing_files(folder) == []
    for name in ("kmnist-train-labels.npz", "kmnist-test-labels.npz"):
        assert kdata.md5sum(folder / name) == kdata.OFFICIAL_MD5[name]
    # The 7,000 offline images do not match the 60,000 official labels: said clearly, no traceback.
    assert "images but 60,000 labels" in texts(app.error)


def test_home_links_every_page_within_the_app(data_dir, monkeypatch, empty_models):
    """Run through app.py's navigation, where Home's links resolve to the real pages."""
    monkeypatch.setenv(kdata.DATA_ENV, str(data_dir))
    app = AppTest.from_file("../app.py", default_timeout=120).run()
    assert not app.exception, app.exception
    assert app.title[0].value.endswith("KMNIST Studio")
    links = app.get("page_link")
    assert [link.proto.label for link in links] == [
        "Dataset explorer", "Training", "Compare runs", "Layer visualizer", "Sketch pad",
        "Max vs average pooling"]
    assert all(link.proto.page_script_hash for link in links)
