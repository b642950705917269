"""Find, download, verify and load the KMNIST files, and say where they came from."""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kmnist.data.origins import OFFICIAL_SIZES, Origin, OriginError, describe_copy, read_origins

OFFICIAL_URL = "http://codh.rois.ac.jp/kmnist/dataset/kmnist/"


DATA_ENV = "KMNIST_DATA"


MIRROR_ENV = "KMNIST_MIRROR"


# File name -> official md5 (from the KMNIST repository's download script).
OFFICIAL_MD5 = {
    "kmnist-train-imgs.npz": "a183fbc01ed9a345513b145673d3d0bb",
    "kmnist-train-labels.npz": "b0e1d240e8afec72b50437fc3bc5908a",
    "kmnist-test-imgs.npz": "dace6de62ca8b90843cc45366337d02e",
    "kmnist-test-labels.npz": "3ae489a79983d0fe386152684e3b5412",
}


SPLIT_FILES = {
    split: (f"kmnist-{split}-imgs.npz", f"kmnist-{split}-labels.npz") for split in ("train", "test")
}


ATTRIBUTION = (
    '"KMNIST Dataset" (created by CODH), adapted from "Kuzushiji Dataset" '
    "(created by NIJL and others), doi:10.20676/00000341, licensed CC BY-SA 4.0 "
    "(https://creativecommons.org/licenses/by-sa/4.0/); KMNIST Studio shows its images unchanged"
)


class DataError(Exception):
    """A data problem, worded for the user: which file, what is wrong, how to fix it."""


@dataclass(frozen=True)
class Provenance:
    """Where a loaded copy of KMNIST came from and whether it is the official release."""

    directory: str  # where it lies on this machine: shown here, never written into a model card
    official: bool
    sizes: dict[str, int]
    md5: dict[str, str] = field(default_factory=dict)
    description: str = ""  # what the copy is (origins.describe_copy)

    @property
    def name(self) -> str:
        """The copy's folder name (e.g. 'kmnist-offline'): meaningful on any machine, unlike its path."""
        return Path(self.directory).name

    @property
    def summary(self) -> str:
        what = f"Folder '{self.name}': {self.description or describe_copy(self.official, self.sizes, {})}"
        if self.official:
            return what
        return (f"{what}. NOT the official KMNIST release, so accuracy here is not comparable to published "
                f"KMNIST results (trained on {OFFICIAL_SIZES['train']:,} images)")

    def checksum_rows(self) -> list[dict]:
        """One row per official file: this copy's md5, the official md5, and whether they agree."""
        return [{"file": name, "this copy": self.md5.get(name, "?"), "official": official,
                 "same": self.md5.get(name) == official} for name, official in OFFICIAL_MD5.items()]

    def to_dict(self) -> dict:
        """What a model card records of its data: name, provenance and checksums, no machine path."""
        return {"name": self.name, "official": self.official, "sizes": dict(self.sizes),
                "md5": dict(self.md5), "summary": self.summary}


@dataclass
class KMNISTData:
    """Images stay uint8 (N, 28, 28) until a pipeline converts batches; labels are uint8 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    provenance: Provenance
    origins: dict[str, Origin | None] = field(default_factory=dict)  # split -> its official images

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in SPLIT_FILES:
            raise ValueError(f"split must be 'train' or 'test', not {name!r}")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")


def data_key(data: KMNISTData, split: str | None = None) -> str:
    """A short name for this copy of the data, or for one `split` of it, made from its files' checksums:
    the key of anything computed from the data (cached maps, sprite sheets, data sent to workers). It
    changes whenever the files do and is the same in every folder and on every machine."""
    text = repr((sorted(data.provenance.md5.items()), split))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_data_dir() -> Path:
    """The cache folder under the user's home, unless KMNIST_DATA points elsewhere."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return Path.home() / ".cache" / "kmnist"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    return Path(data_dir).expanduser() if data_dir else default_data_dir()


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def missing_files(data_dir: str | os.PathLike | None = None) -> list[str]:
    directory = resolve_data_dir(data_dir)
    return [name for name in OFFICIAL_MD5 if not (directory / name).is_file()]


def _how_to_provide(directory: Path) -> str:
    return (
        f"run `python -m kmnist fetch --data {directory}` with internet access, or put "
        f"{', '.join(OFFICIAL_MD5)} (from {OFFICIAL_URL}) in {directory}, "
        f"or set {DATA_ENV} to a folder that holds them"
    )


def fetch(data_dir=None, *, base_url: str | None = None, progress=None) -> Path:
    """Download the missing official files into the data folder, md5-verified.

    Each file is downloaded (urllib, http or file URLs) into a staging folder, checked against its
    official md5 and only then moved into place, so a partial or corrupt download never stays
    looking valid. A failed fetch also removes the folders it created that it leaves empty (files
    that were there before, and files already verified, stay). ``progress(name, index, total)`` is
    called before each download.
    """
    directory = resolve_data_dir(data_dir)
    base_url = base_url or os.environ.get(MIRROR_ENV) or OFFICIAL_URL
    todo = missing_files(directory)
    if not todo:
        return directory
    created = [folder for folder in (directory, *directory.parents) if not folder.exists()]  # deepest first
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"cannot create the data folder {directory}: {error.strerror}; "
                        f"choose a writable folder with --data or {DATA_ENV}") from error
    staging = directory / ".download"
    try:
        _download(todo, directory, staging, base_url, progress)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:
            try:
                folder.rmdir()  # only an empty one
            except OSError:
                break
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return directory


def download(url: str, target: Path, timeout: float = 60) -> None:
    """`url` into the file `target`; a server silent for `timeout` seconds is an error, not a hang."""
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)


def _download(todo: list[str], directory: Path, staging: Path, base_url: str, progress) -> None:
    """Each of `todo` from `base_url` into `staging`, md5-checked, then moved into `directory`."""
    staging.mkdir(exist_ok=True)
    for index, name in enumerate(todo):
        if progress:
            progress(name, index, len(todo))
        url = base_url.rstrip("/") + "/" + name
        staged = staging / name
        try:
            download(url, staged)
        except Exception as error:  # urllib's and the file system's errors all mean "no file"
            raise DataError(f"could not download {name} from {url} ({error}); "
                            f"{_how_to_provide(directory)}") from error
        actual = md5sum(staged)
        if actual != OFFICIAL_MD5[name]:
            raise DataError(f"{name} downloaded from {url} is corrupt (md5 {actual}, expected "
                            f"{OFFICIAL_MD5[name]}); it was deleted, run the fetch again")
        os.replace(staged, directory / name)


def _load_array(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "arr_0" not in archive.files:
                raise DataError(f"{path} holds no 'arr_0' array (it has {archive.files}); "
                                "it is not a KMNIST file, replace it with the official one")
            return archive["arr_0"]
    except DataError:
        raise
    except PermissionError as error:
        raise DataError(f"{path} is not readable ({error.strerror}); fix its permissions "
                        "or point KMNIST_DATA at a readable copy") from error
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path} is truncated or corrupt ({error}); delete it and run "
                        "`python -m kmnist fetch` again, or copy it anew") from error


def validate_arrays(images: np.ndarray, labels: np.ndarray, where: str) -> None:
    """Raise DataError unless images are uint8 (N, 28, 28) and labels are N ints in 0..9."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{where}: images must be uint8 with shape (N, 28, 28), found "
                        f"{images.dtype} {images.shape}; use the official KMNIST files")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{where}: labels must be a 1-D integer array, found {labels.dtype} "
                        f"{labels.shape}; use the official KMNIST label file")
    if len(labels) != len(images):
        raise DataError(f"{where}: {len(images):,} images but {len(labels):,} labels; the image "
                        "and label files belong to different copies, replace both")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{where}: labels must lie in 0..9, found {labels.min()}..{labels.max()}; "
                        "use the official KMNIST label file")


def load(data_dir=None) -> KMNISTData:
    """Load and validate the four files; raise DataError naming the problem and the fix."""
    directory = resolve_data_dir(data_dir)
    if not directory.exists():
        raise DataError(f"data folder {directory} does not exist; {_how_to_provide(directory)}")
    if not os.access(directory, os.R_OK | os.X_OK):
        raise DataError(f"data folder {directory} is not readable; fix its permissions or "
                        f"set {DATA_ENV} to a readable folder")
    missing = missing_files(directory)
    if missing:
        raise DataError(f"{', '.join(missing)} missing from {directory}; "
                        f"{_how_to_provide(directory)}")
    arrays, checksums = {}, {}
    for split, (image_file, label_file) in SPLIT_FILES.items():
        images, labels = (_load_array(directory / image_file), _load_array(directory / label_file))
        validate_arrays(images, labels, f"{directory / image_file} + {label_file}")
        arrays[split] = (images, labels.astype(np.uint8))
        for name in (image_file, label_file):
            checksums[name] = md5sum(directory / name)
    official = all(checksums[name] == md5 for name, md5 in OFFICIAL_MD5.items())
    sizes = {split: len(arrays[split][1]) for split in arrays}
    try:
        origins = read_origins(directory, sizes, checksums[SPLIT_FILES["train"][0]], official)
    except OriginError as error:
        raise DataError(str(error)) from error
    provenance = Provenance(directory=str(directory.resolve()), official=official, sizes=sizes,
                            md5=checksums, description=describe_copy(official, sizes, origins))
    return KMNISTData(*arrays["train"], *arrays["test"], provenance=provenance, origins=origins)
