"""Unit tests of kmnist.data.files: validation, checksums, corrupt and missing files, offline download."""

import hashlib
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from kmnist.data import files as kdata


def write_split(folder, split, n, *, images=None, labels=None):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) if images is None else images
    labels = (np.arange(n) % 10).astype(np.uint8) if labels is None else labels
    np.savez_compressed(folder / f"kmnist-{split}-imgs.npz", images)
    np.savez_compressed(folder / f"kmnist-{split}-labels.npz", labels)


@pytest.fixture
def synthetic_dir(tmp_path):
    write_split(tmp_path, "train", 50)
    write_split(tmp_path, "test", 20)
    return tmp_path


def test_loads_synthetic_copy_as_not_official(synthetic_dir):
    data = kdata.load(synthetic_dir)
    assert data.x_train.shape == (50, 28, 28) and data.x_train.dtype == np.uint8
    assert data.y_test.tolist() == [i % 10 for i in range(20)]
    assert data.provenance.official is False
    assert data.provenance.sizes == {"train": 50, "test": 20}
    assert "NOT the official" in data.provenance.summary
    assert data.provenance.md5["kmnist-train-imgs.npz"] == kdata.md5sum(
        synthetic_dir / "kmnist-train-imgs.npz")
    key, test_key = kdata.data_key(data), kdata.data_key(data, "test")
    assert len({key, test_key, kdata.data_key(data, "train")}) == 3 and len(key) == 16
    moved = synthetic_dir / "elsewhere"
    moved.mkdir()
    for file in synthetic_dir.glob("*.npz"):
        shutil.copy(file, moved / file.name)
    assert kdata.data_key(kdata.load(moved)) == key  # the same files in another folder: the same key
    write_split(moved, "test", 20, labels=np.zeros(20, np.uint8))
    changed = kdata.load(moved)
    assert kdata.data_key(changed) != key and kdata.data_key(changed, "test") != test_key  # follows the files


def test_data_env_sets_default_dir(monkeypatch, synthetic_dir):
    monkeypatch.setenv(kdata.DATA_ENV, str(synthetic_dir))
    assert kdata.default_data_dir() == synthetic_dir
    assert kdata.load().provenance.sizes["train"] == 50
    monkeypatch.delenv(kdata.DATA_ENV)
    assert kdata.default_data_dir().parts[-2:] == (".cache", "kmnist")


def test_missing_folder_names_the_fix(tmp_path):
    with pytest.raises(kdata.DataError, match="does not exist.*KMNIST_DATA"):
        kdata.load(tmp_path / "nowhere")


def test_missing_files_are_listed(synthetic_dir):
    (synthetic_dir / "kmnist-test-labels.npz").unlink()
    with pytest.raises(kdata.DataError, match="kmnist-test-labels.npz missing.*python -m kmnist fetch"):
        kdata.load(synthetic_dir)


def test_truncated_npz_is_reported(synthetic_dir):
    path = synthetic_dir / "kmnist-train-imgs.npz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(kdata.DataError, match="kmnist-train-imgs.npz is truncated or corrupt"):
        kdata.load(synthetic_dir)


@pytest.mark.parametrize(
    "images, labels, problem",
    [
        (np.zeros((10, 28, 28), np.float32), np.zeros(10, np.uint8), "must be uint8"),
        (np.zeros((10, 32, 32), np.uint8), np.zeros(10, np.uint8), r"shape \(N, 28, 28\)"),
        (np.zeros((10, 28, 28), np.uint8), np.full(10, 12, np.uint8), "must lie in 0..9"),
        (np.zeros((10, 28, 28), np.uint8), np.zeros(9, np.uint8), "10 images but 9 labels"),
        (np.zeros((10, 28, 28), np.uint8), np.zeros(10, np.float32), "integer array"),
    ],
)
def test_wrong_shape_dtype_labels_are_rejected(tmp_path, images, labels, problem):
    write_split(tmp_path, "train", 10, images=images, labels=labels)
    write_split(tmp_path, "test", 10)
    with pytest.raises(kdata.DataError, match=problem):
        kdata.load(tmp_path)


def test_unreadable_folder(synthetic_dir):
    if os.geteuid() == 0:  # root reads everything; simulate with a file where a folder should be
        target = synthetic_dir / "kmnist-train-imgs.npz"
        target.unlink()
        target.mkdir()
        with pytest.raises(kdata.DataError, match="kmnist-train-imgs.npz"):
            kdata.load(synthetic_dir)
    else:
        synthetic_dir.chmod(0)
        try:
            with pytest.raises(kdata.DataError, match="not readable"):
                kdata.load(synthetic_dir)
        finally:
            synthetic_dir.chmod(0o755)


def test_md5sum_matches_hashlib(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(os.urandom(3_000_000))
    assert kdata.md5sum(path) == hashlib.md5(path.read_bytes()).hexdigest()


def test_official_label_files_have_official_md5(official_labels_dir):
    for name in ("kmnist-train-labels.npz", "kmnist-test-labels.npz"):
        assert kdata.md5sum(official_labels_dir / name) == kdata.OFFICIAL_MD5[name]


def test_fetch_downloads_and_verifies_official_files(tmp_path, official_labels_dir):
    """Downloads the official label files from a file:// mirror; images are missing there."""
    folder = official_labels_dir.resolve()
    target = tmp_path / "cache"
    seen = []
    with pytest.raises(kdata.DataError, match="could not download kmnist-train-imgs.npz"):
        kdata.fetch(target, base_url=f"file://{folder}/", progress=lambda *a: seen.append(a[0]))
    assert seen == ["kmnist-train-imgs.npz"]
    assert not target.exists(), "a failed download must leave nothing in place, not even its folder"
    # the two label files alone: fetch each by pretending the image files exist
    target.mkdir()
    for name in ("kmnist-train-imgs.npz", "kmnist-test-imgs.npz"):
        (target / name).write_bytes(b"placeholder for this test")
    kdata.fetch(target, base_url=f"file://{folder}/")
    for name in ("kmnist-train-labels.npz", "kmnist-test-labels.npz"):
        assert kdata.md5sum(target / name) == kdata.OFFICIAL_MD5[name]
    assert not (target / ".download").exists()


def test_fetch_deletes_a_download_with_the_wrong_md5(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_split(mirror, "train", 10)
    write_split(mirror, "test", 10)
    target = tmp_path / "cache"
    with pytest.raises(kdata.DataError, match="is corrupt .*md5.*deleted"):
        kdata.fetch(target, base_url=mirror.as_uri())
    assert not target.exists(), "the folder this fetch made, empty again, is gone"


@pytest.fixture
def cut_off(monkeypatch):
    """A connection that drops mid-file: a partial file where the download goes, then an error."""
    def download(url, target, timeout=60):
        Path(target).write_bytes(b"the first bytes of the file")
        raise ConnectionResetError(f"connection to {url} reset by peer")

    monkeypatch.setattr(kdata, "download", download)


def test_a_failed_fetch_leaves_no_partial_file_nor_the_empty_folders_it_made(tmp_path, cut_off):
    target = tmp_path / "home" / ".cache" / "kmnist"  # none of these folders exists yet
    with pytest.raises(kdata.DataError, match="could not download kmnist-train-imgs.npz .*reset by peer"):
        kdata.fetch(target, base_url="http://codh.invalid/")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("before", [{}, {"notes.txt": b"mine", "kmnist-train-imgs.npz": b"placeholder"}],
                         ids=["an empty folder", "a folder with files"])
def test_a_failed_fetch_keeps_the_folder_and_files_that_were_there(tmp_path, cut_off, before):
    target = tmp_path / "kmnist"
    target.mkdir()
    for name, content in before.items():
        (target / name).write_bytes(content)
    with pytest.raises(kdata.DataError, match="could not download kmnist-t"):
        kdata.fetch(target, base_url="http://codh.invalid/")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before  # no partial file, no .download


def test_fetch_offline_says_what_to_do(tmp_path):
    with pytest.raises(kdata.DataError, match="could not download.*KMNIST_DATA"):
        kdata.fetch(tmp_path, base_url="http://127.0.0.1:9/")


@pytest.mark.real_data
def test_offline_copy_loads_as_not_official(kmnist_data):
    p = kmnist_data.provenance
    assert p.sizes == {"train": 7000, "test": 2000}
    assert not p.official
    assert np.bincount(kmnist_data.y_train).tolist() == [700] * 10


def test_checksum_rows_compare_each_file_with_the_official_md5():
    official = kdata.Provenance("/x/copy", True, {"train": 1, "test": 1}, dict(kdata.OFFICIAL_MD5))
    assert [row["same"] for row in official.checksum_rows()] == [True] * 4
    other = kdata.Provenance("/x/copy", False, {"train": 1, "test": 1}, {"kmnist-train-imgs.npz": "abc"})
    rows = {row["file"]: row for row in other.checksum_rows()}
    assert rows["kmnist-train-imgs.npz"]["this copy"] == "abc" and not rows["kmnist-train-imgs.npz"]["same"]
    assert rows["kmnist-test-imgs.npz"]["this copy"] == "?"
    assert "/x/copy" not in str(other.to_dict()) and other.to_dict()["name"] == "copy"  # no machine path


def test_a_server_that_stops_answering_fails_the_download_instead_of_hanging(tmp_path):
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            kdata.download(f"http://127.0.0.1:{silent.getsockname()[1]}/kmnist-test-labels.npz",
                           tmp_path / "x.npz", timeout=0.5)
    assert time.monotonic() - started < 5
