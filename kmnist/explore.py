"""Looking at the data set: image grids, class statistics, sampling and 2-D projections (pure numpy/PIL)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kmnist.classes import CLASSES, NUM_CLASSES

FONT_ENV = "KMNIST_CJK_FONT"  # optional path to a font with hiragana, for labels drawn on images
_CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
)


# --- Picking images --------------------------------------------------------------------------------

def class_indices(labels: np.ndarray, classes: Sequence[int] | None = None) -> np.ndarray:
    """Positions of the images whose label is in `classes` (all when None), in data set order."""
    if classes is None:
        return np.arange(len(labels))
    return np.flatnonzero(np.isin(labels, np.asarray(list(classes), dtype=labels.dtype)))


@dataclass(frozen=True)
class Page:
    """One page of a gallery: which positions it shows and where it sits among all pages."""

    number: int  # 1-based, clamped into 1..count
    count: int
    indices: np.ndarray
    first: int  # 1-based rank of the first image on the page among the selection (0 if empty)
    last: int
    total: int


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill; at least one, so an empty selection still has page 1."""
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, not {per_page}")
    return max(1, -(-total // per_page))


def paginate(indices: np.ndarray, page: int, per_page: int) -> Page:
    """The `page`-th slice (1-based, clamped to the valid range) of `indices`."""
    count = page_count(len(indices), per_page)
    page = min(max(int(page), 1), count)
    start = (page - 1) * per_page
    chosen = np.asarray(indices[start:start + per_page])
    first = start + 1 if len(chosen) else 0
    return Page(page, count, chosen, first, start + len(chosen), len(indices))


def stratified_sample(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """About `size` positions with every class as equally represented as the data allows, sorted.

    Classes smaller than their share give all their images; the rest is spread over the others.
    """
    labels = np.asarray(labels)
    if size >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    groups = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    quota = np.zeros(len(groups), dtype=int)
    remaining = size
    open_groups = list(range(len(groups)))
    while remaining > 0 and open_groups:  # water-filling: small classes give all, others share the rest
        share = max(1, remaining // len(open_groups))
        for g in list(open_groups):
            take = min(share, len(groups[g]) - quota[g], remaining)
            quota[g] += take
            remaining -= take
            if quota[g] == len(groups[g]):
                open_groups.remove(g)
            if remaining == 0:
                break
    return np.sort(np.concatenate([group[:q] for group, q in zip(groups, quota, strict=True)]))


def class_examples(labels: np.ndarray, per_class: int, seed: int = 0) -> list[np.ndarray]:
    """For each class 0..9, up to `per_class` random positions of its images (fewer if it has fewer)."""
    rng = np.random.default_rng(seed)
    examples = []
    for c in range(NUM_CLASSES):
        members = np.flatnonzero(labels == c)
        examples.append(np.sort(rng.choice(members, size=min(per_class, len(members)), replace=False)))
    return examples


def selected_index(points: Sequence[dict]) -> int | None:
    """The data set position of the first selected point of a projection plot (its customdata[0])."""
    for point in points or ():
        custom = point.get("customdata")
        if custom is not None and len(custom):
            return int(custom[0])
    return None


# --- Statistics ------------------------------------------------------------------------------------

def class_counts(labels: np.ndarray) -> np.ndarray:
    """Images per class 0..9 (zeros for classes that do not occur)."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES)[:NUM_CLASSES]


def mean_images(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The average image of each class, float32 (10, 28, 28) in 0..255; zeros for an absent class."""
    means = np.zeros((NUM_CLASSES, *images.shape[1:]), dtype=np.float32)
    for c in range(NUM_CLASSES):
        members = images[labels == c]
        if len(members):
            means[c] = members.mean(axis=0, dtype=np.float64)
    return means


def intensity_histogram(images: np.ndarray, bins: int = 32, skip_background: bool = False):
    """Pixel counts over 0..255 in `bins` equal bins; without the pure-black pixels if asked.

    Returns (counts, edges) like np.histogram: len(edges) == bins + 1.
    """
    pixels = np.asarray(images).ravel()
    if skip_background:
        pixels = pixels[pixels > 0]
    return np.histogram(pixels, bins=bins, range=(0, 256))


def ink_fraction(images: np.ndarray) -> float:
    """Share of pixels that are not pure background (value 0)."""
    images = np.asarray(images)
    return float(np.count_nonzero(images)) / images.size if images.size else 0.0


# --- 2-D projections -------------------------------------------------------------------------------

def _flat(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0


def pca_projection(images: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Principal component analysis to 2-D: (coordinates (N, 2), explained variance ratio (2,))."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed)
    coordinates = pca.fit_transform(_flat(images))
    return coordinates.astype(np.float32), pca.explained_variance_ratio_


def tsne_projection(images: np.ndarray, seed: int = 0, perplexity: float = 30.0,
                    iterations: int = 500) -> np.ndarray:
    """t-SNE to 2-D after PCA to 50 dimensions (the usual speed-up); (N, 2) float32.

    500 iterations (sklearn's default is 1,000) already separate the KMNIST classes clearly
    and halve the wait.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    flat = _flat(images)
    # One thread: on a shared or busy machine OpenMP threads fighting for cores made t-SNE 10x slower.
    with threadpool_limits(limits=1):
        reduced = PCA(n_components=min(50, *flat.shape), random_state=seed).fit_transform(flat)
        perplexity = min(perplexity, max(1.0, (len(flat) - 1) / 3))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", max_iter=max(250, iterations),
                    random_state=seed)
        return tsne.fit_transform(reduced).astype(np.float32)


# --- Composing images ------------------------------------------------------------------------------

def find_cjk_font() -> str | None:
    """A font file that can draw hiragana ($KMNIST_CJK_FONT, common paths, then fontconfig), or None."""
    return _find_cjk_font(os.environ.get(FONT_ENV, ""))


@functools.lru_cache(maxsize=4)
def _find_cjk_font(configured: str) -> str | None:
    candidates = [configured] if configured else []
    candidates += list(_CJK_FONT_CANDIDATES)
    if shutil.which("fc-list"):
        try:
            listing = subprocess.run(["fc-list", ":lang=ja", "file"], capture_output=True, text=True,
                                     timeout=5, check=False).stdout
            candidates += [line.split(":")[0].strip() for line in listing.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    for path in candidates:
        if path and os.path.isfile(path) and _draws_hiragana(path):
            return path
    return None


def _draws_hiragana(path: str) -> bool:
    """True if the font has a real glyph for お (not the empty 'missing glyph' box)."""
    try:
        font = ImageFont.truetype(path, 20)
        return font.getmask("お").getbbox() not in (None, font.getmask("\uffff").getbbox())
    except OSError:
        return False


@functools.lru_cache(maxsize=16)
def label_font(size: int, cjk: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font for tile labels: a CJK one when `cjk` and one is installed, else Pillow's built-in font."""
    path = find_cjk_font() if cjk else None
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def can_draw_hiragana() -> bool:
    return find_cjk_font() is not None


def tile_label(index: int, label: int, hiragana: bool) -> str:
    """The text under a gallery tile: '#123 お o', or '#123 o' when no font can draw hiragana."""
    kana = CLASSES[int(label)]
    return f"#{index} {kana.char} {kana.romaji}" if hiragana else f"#{index} {kana.romaji}"


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Images of any real range to uint8: uint8 as is, others clipped to 0..255 and rounded."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so every pixel stays a crisp square."""
    return np.kron(np.asarray(image), np.ones((factor, factor), dtype=np.asarray(image).dtype))


def compose_grid(images: np.ndarray, columns: int, scale: int = 3, labels: Sequence[str] | None = None,
                 gap: int = 4, label_height: int = 16, background: int = 255,
                 row_labels: Sequence[str] | None = None, row_label_width: int = 76) -> np.ndarray:
    """One RGB picture of `images` (N, H, W) in rows of `columns` tiles, each `scale` times larger.

    `labels` (one per image) are written under the tiles; `row_labels` (one per row) at the left.
    Composing a single picture is far faster to send and draw than one widget per image.
    """
    images = to_uint8(images)
    count = len(images)
    if columns < 1 or scale < 1:
        raise ValueError("columns and scale must be at least 1")
    if labels is not None and len(labels) != count:
        raise ValueError(f"{len(labels)} labels for {count} images")
    rows = max(1, -(-count // columns))
    if row_labels is not None and len(row_labels) != rows:
        raise ValueError(f"{len(row_labels)} row labels for {rows} rows")
    tile_h, tile_w = (images.shape[1] * scale, images.shape[2] * scale) if count else (28 * scale,) * 2
    strip = label_height if labels is not None else 0
    left = row_label_width if row_labels is not None else 0
    cell_w, cell_h = tile_w + gap, tile_h + strip + gap
    canvas = np.full((gap + rows * cell_h, gap + left + columns * cell_w), background, dtype=np.uint8)
    for n, image in enumerate(images):
        row, column = divmod(n, columns)
        top, x = gap + row * cell_h, gap + left + column * cell_w
        canvas[top:top + tile_h, x:x + tile_w] = upscale(image, scale)
    picture = Image.fromarray(canvas).convert("RGB")
    if labels is not None or row_labels is not None:
        draw = ImageDraw.Draw(picture)
        ink = (0, 0, 0) if background > 127 else (255, 255, 255)
        font = label_font(max(8, label_height - 4))
        for n, text in enumerate(labels or ()):
            row, column = divmod(n, columns)
            x = gap + left + column * cell_w + tile_w / 2
            draw.text((x, gap + row * cell_h + tile_h + strip / 2), text, fill=ink, font=font, anchor="mm")
        big = label_font(max(10, min(tile_h // 2, 28)))
        for row, text in enumerate(row_labels or ()):
            draw.text((gap + left / 2, gap + row * cell_h + tile_h / 2), text, fill=ink, font=big,
                      anchor="mm")
    return np.asarray(picture)


def gallery_picture(images: np.ndarray, labels: np.ndarray, positions: np.ndarray, columns: int = 8,
                    scale: int = 3) -> np.ndarray:
    """The gallery page: images at `positions`, each labelled with its position and class."""
    hiragana = can_draw_hiragana()
    texts = [tile_label(p, labels[p], hiragana) for p in positions]
    return compose_grid(images[positions], columns, scale, labels=texts)


def class_rows_picture(images: np.ndarray, examples: Sequence[np.ndarray], scale: int = 2) -> np.ndarray:
    """One row per class (label at the left) holding that class's example images."""
    columns = max(len(e) for e in examples)
    hiragana = can_draw_hiragana()
    tiles = []
    for positions in examples:
        row = list(images[positions])
        row += [np.zeros_like(images[0])] * (columns - len(row))  # short class: pad with black
        tiles += row
    row_labels = [f"{k.char} {k.romaji}" if hiragana else f"{k.index} {k.romaji}" for k in CLASSES]
    return compose_grid(np.stack(tiles), columns, scale, row_labels=row_labels[:len(examples)])


def means_picture(means: np.ndarray, scale: int = 4) -> np.ndarray:
    """The ten class means side by side, each labelled with its class, contrast stretched per image."""
    peaks = means.reshape(len(means), -1).max(axis=1).reshape(-1, 1, 1)
    stretched = means * (255.0 / np.maximum(peaks, 1e-6))
    hiragana = can_draw_hiragana()
    texts = [f"{k.index} {k.char} {k.romaji}" if hiragana else f"{k.index} {k.romaji}"
             for k in CLASSES[:len(means)]]
    return compose_grid(stretched, columns=len(means), scale=scale, labels=texts)
