"""Which official KMNIST images a copy holds, which of them a model saw, and which it never saw."""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OFFICIAL_SIZES = {"train": 60_000, "test": 10_000}  # images per split of the official release


INDICES_FILES = {split: f"{split}-indices.txt" for split in OFFICIAL_SIZES}


# Copies whose indices files do not say which official split they index, known by the md5 of their
# training images. kmnist-offline (../shared) re-splits 9,000 official *test* images: both of its
# splits index the official test set.
KNOWN_COPIES = {
    "a55502181353c0a98794e03956d4cd3f": {"train": "test", "test": "test"},
}


@dataclass(frozen=True)
class Origin:
    """Where the images of one split of a copy sit in the official release: the official split and the
    position of each image in its file (image i of the copy is official image positions[i])."""

    split: str
    positions: np.ndarray


class OriginError(ValueError):
    """An indices file that cannot be what it claims: wrong length, not whole numbers, out of range."""


def read_origins(directory: Path, sizes: dict[str, int], train_md5: str,
                 official: bool) -> dict[str, Origin | None]:
    """Each split's Origin, or None where nothing says which official images it holds: the official
    files hold every image in order; an indices file gives the positions of a subset (in the split of
    the same name unless KNOWN_COPIES says otherwise)."""
    if official:
        return {split: Origin(split, np.arange(size)) for split, size in OFFICIAL_SIZES.items()}
    origins: dict[str, Origin | None] = {}
    known = KNOWN_COPIES.get(train_md5, {})
    for split, file_name in INDICES_FILES.items():
        path = directory / file_name
        if not path.is_file():
            origins[split] = None
            continue
        official_split = known.get(split, split)
        origins[split] = Origin(official_split, _read_positions(path, sizes[split], official_split))
    return origins


def _read_positions(path: Path, count: int, official_split: str) -> np.ndarray:
    try:
        positions = np.loadtxt(path, dtype=np.int64, ndmin=1)
    except ValueError as error:
        raise OriginError(f"{path} must hold one whole number per line ({error}); "
                          "replace it or delete it (the copy then counts as of unknown origin)") from error
    limit = OFFICIAL_SIZES[official_split]
    if len(positions) != count or (len(positions) and (positions.min() < 0 or positions.max() >= limit)):
        raise OriginError(f"{path} holds {len(positions):,} positions for {count:,} images, each of which "
                          f"must lie in 0..{limit - 1:,} (the official {official_split} set); replace it or "
                          "delete it (the copy then counts as of unknown origin)")
    if len(np.unique(positions)) != len(positions):
        raise OriginError(f"{path} names an official image twice; replace it or delete it")
    return positions


def describe_copy(official: bool, sizes: dict[str, int], origins: dict[str, Origin | None]) -> str:
    """What a copy is, precisely, in one phrase (Provenance.summary builds on it)."""
    of = {split: f"{split} {sizes[split]:,} of {OFFICIAL_SIZES[split]:,}" for split in sizes}
    if official:
        return f"the official KMNIST release ({sizes['train']:,} train / {sizes['test']:,} test images)"
    if all(origins.get(split) is not None and origins[split].split == split for split in OFFICIAL_SIZES):
        return f"a subset of the official KMNIST release ({of['train']}, {of['test']})"
    train = origins.get("train")
    if train is not None and train.split == "test":
        return (f"{sizes['train'] + sizes['test']:,} images of the official KMNIST test set, re-split "
                f"({sizes['train']:,} train / {sizes['test']:,} test): its training images are official "
                "test images")
    return (f"a copy of unknown origin ({sizes['train']:,} train / {sizes['test']:,} test images): nothing "
            "in it says which official images it holds")


# -- a set of official positions, compactly, as a model card records it ----------------------------------
def encode(split: str, positions: np.ndarray) -> dict:
    """Positions in official `split` as a card records them: the split, how many, the lowest and highest,
    and a bitmap over the whole official split (zlib, base64): about 1 kB for thousands of images."""
    mask = np.zeros(OFFICIAL_SIZES[split], bool)
    mask[positions] = True
    packed = zlib.compress(np.packbits(mask).tobytes(), 9)
    return {"split": split, "count": int(mask.sum()), "first": int(positions.min()) if len(positions) else 0,
            "last": int(positions.max()) if len(positions) else 0,
            "bitmap": base64.b64encode(packed).decode("ascii")}


def seen_images(origin: Origin | None, trained: np.ndarray, validated: np.ndarray) -> dict:
    """What a card records of the official images a run trained and validated on (indices `trained` and
    `validated` into a split whose Origin is `origin`): {"images": {"trained": ..., "validated": ...}},
    or nothing where the copy does not say which official images it holds."""
    if origin is None:
        return {}
    return {"images": {"trained": encode(origin.split, origin.positions[trained]),
                       "validated": encode(origin.split, origin.positions[validated])}}


def seen_words(seen: dict | None) -> str:
    """A card's record of the official images its model saw, for people: "trained on 5,027 and validated
    on 1,257 official train images (positions 0–6,283)"; or that the card does not say."""
    if not seen:
        return "which official images it trained on is not recorded"
    trained, validated = seen["trained"], seen["validated"]
    splits = {trained["split"], validated["split"]}
    low = min(trained.get("first", 0), validated.get("first", 0))
    high = max(trained.get("last", 0), validated.get("last", 0))
    return (f"trained on {trained['count']:,} and validated on {validated['count']:,} official "
            f"{' and '.join(sorted(splits))} images (positions {low:,}–{high:,})")


def decode(record: dict) -> tuple[str, np.ndarray]:
    """(official split, sorted positions) of a record made by `encode`."""
    size = OFFICIAL_SIZES[record["split"]]
    bits = np.unpackbits(np.frombuffer(zlib.decompress(base64.b64decode(record["bitmap"])), np.uint8))
    return record["split"], np.flatnonzero(bits[:size])


@dataclass(frozen=True)
class Unseen:
    """Which images of a split a model never trained or validated on, and how sure that is."""

    keep: np.ndarray      # indices into the split: the images to count
    left_out: int         # images of the split the model trained or validated on
    known: bool           # False: the card or the copy cannot tell, so `keep` is every image
    noun: str = "test images"  # what the images are, e.g. "official test images"

    def line(self, model: str) -> str:
        """The one line a page shows with a figure, e.g. "on the 3,000 official test images studio-max
        never saw; 7,000 it trained or validated on are left out"."""
        count = f"{len(self.keep):,} {self.noun}"
        if not self.known:
            return (f"on all {count}: {model} may have trained on some of these (its card or this copy "
                    "cannot tell)")
        if self.left_out:
            return (f"on the {count} {model} never saw; {self.left_out:,} it trained or validated on are "
                    "left out")
        return f"on the {count}, none of which {model} trained on"


def unseen(count: int, origin: Origin | None, seen: dict | None) -> Unseen:
    """The images of a split of `count` images (whose Origin is `origin`) that a model never trained or
    validated on; `seen` is its card's record of them ({"trained": ..., "validated": ...}, see `encode`).
    Where the copy or the card cannot tell, every image, marked as not known."""
    noun = "test images" if origin is None else f"official {origin.split} images"
    if origin is None or not seen:
        return Unseen(np.arange(count), 0, False, noun)
    inside = np.zeros(len(origin.positions), bool)
    for record in seen.values():
        split, positions = decode(record)
        if split == origin.split:
            inside |= np.isin(origin.positions, positions)
    return Unseen(np.flatnonzero(~inside), int(inside.sum()), True, noun)
