"""Pictures composed for the pages: labelled image grids and class sheets, with a font that draws hiragana."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kmnist.data.classes import CLASSES, KanaClass
from kmnist.data.pixels import IMAGE_SIDE, to_uint8, upscale

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


def drawable(kana: KanaClass, hiragana: bool, short: bool = False) -> str:
    """How a picture writes class `kana`: its name ('お (o)'), or with `short` its character ('お'); its
    romaji ('o') when no installed font can draw hiragana."""
    if not hiragana:
        return kana.romaji
    return kana.char if short else kana.name


def tile_label(index: int, label: int, hiragana: bool) -> str:
    """The text under a gallery tile: '#123 お (o)', or '#123 o' when no font can draw hiragana."""
    return f"#{index} {drawable(CLASSES[int(label)], hiragana)}"


def compose_grid(images: np.ndarray, columns: int, scale: int = 3, labels: Sequence[str] | None = None,
                 gap: int = 4, label_height: int = 16, background: int = 255,
                 row_labels: Sequence[str] | None = None, row_label_width: int = 76,
                 inks: Sequence[tuple[int, int, int]] | None = None) -> np.ndarray:
    """One RGB picture of `images` (N, H, W; uint8, or float in [0, 1]) in rows of `columns` tiles, each
    `scale` times larger.

    `labels` (one per image) are written under the tiles, each in its colour of `inks` if given;
    `row_labels` (one per row) at the left. Composing a single picture is far faster to send and draw than
    one widget per image.
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
    tile_h, tile_w = ((images.shape[1] * scale, images.shape[2] * scale) if count
                      else (IMAGE_SIDE * scale,) * 2)
    strip = label_height if labels is not None else 0
    big = label_font(max(10, min(tile_h // 2, 28)))
    widest_row_label = max((big.getlength(text) for text in row_labels or ()), default=0)
    left = max(row_label_width, int(widest_row_label) + 2 * gap) if row_labels is not None else 0
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
        font = _fitting_font(labels or (), max(8, label_height - 4), tile_w + gap // 2)
        for n, text in enumerate(labels or ()):
            row, column = divmod(n, columns)
            x = gap + left + column * cell_w + tile_w / 2
            draw.text((x, gap + row * cell_h + tile_h + strip / 2), text, fill=inks[n] if inks else ink,
                      font=font, anchor="mm")
        for row, text in enumerate(row_labels or ()):
            draw.text((gap + left / 2, gap + row * cell_h + tile_h / 2), text, fill=ink, font=big,
                      anchor="mm")
    return np.asarray(picture)


def _fitting_font(texts: Sequence[str], size: int, width: float):
    """The label font at `size`, or smaller (down to 7) until every text fits in `width` pixels."""
    font = label_font(size)
    while size > 7 and any(font.getlength(text) > width for text in texts):
        size -= 1
        font = label_font(size)
    return font


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
    row_labels = [f"{k.index} {drawable(k, hiragana)}" for k in CLASSES]
    return compose_grid(np.stack(tiles), columns, scale, row_labels=row_labels[:len(examples)])


def means_picture(means: np.ndarray, scale: int = 4) -> np.ndarray:
    """The ten class means side by side, each labelled with its class, contrast stretched per image."""
    peaks = means.reshape(len(means), -1).max(axis=1).reshape(-1, 1, 1)
    stretched = means / np.maximum(peaks, 1e-6)  # each mean in [0, 1], its brightest pixel at 1
    hiragana = can_draw_hiragana()
    texts = [f"{k.index} {drawable(k, hiragana)}" for k in CLASSES[:len(means)]]
    return compose_grid(stretched, columns=len(means), scale=scale, labels=texts)


def app_icon(size: int = 64) -> Image.Image:
    """The app's favicon, drawn here rather than named as a Material icon (the browser fetches those from a
    font CDN, which an offline classroom cannot reach): a 3x3 filter of learnt-looking weights on a tile."""
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=(38, 39, 48, 255))
    weights = np.array([[0.2, 0.9, 0.4], [0.6, 1.0, 0.3], [0.1, 0.7, 0.5]])  # a filter's nine cells
    cell, margin = (size - size // 4) // 3, size // 8
    for (row, column), weight in np.ndenumerate(weights):
        left, top = margin + column * cell, margin + row * cell
        shade = int(60 + 195 * weight)  # brighter: a larger weight, as the pages draw filters
        draw.rectangle((left + 1, top + 1, left + cell - 2, top + cell - 2), fill=(shade, shade, shade))
    return icon
