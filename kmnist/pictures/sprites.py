"""Sprite sheets of a split's images: which page and tile hold an image, composing and writing the pages."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kmnist.data.pixels import IMAGE_SIDE, to_uint8
from kmnist.registry.atomic import atomic_write


@dataclass(frozen=True)
class Layout:
    """How tiles are laid out on a page: `columns` x `rows` tiles of `tile` x `tile` pixels."""

    columns: int = 40
    rows: int = 25
    tile: int = IMAGE_SIDE

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def page_count(self, images: int) -> int:
        return -(-images // self.per_page)

    def locate(self, position: int) -> tuple[int, int, int]:
        """(page, row, column) of the tile that holds image `position`."""
        if position < 0:
            raise ValueError(f"no image at position {position}")
        page, tile = divmod(position, self.per_page)
        row, column = divmod(tile, self.columns)
        return page, row, column

    def as_args(self) -> dict:
        return {"columns": self.columns, "rows": self.rows, "tile": self.tile, "per_page": self.per_page}


LAYOUT = Layout()


def sprite_key(data_key: str, layout: Layout = LAYOUT) -> str:
    """A short name for the sheets of one split of one copy of the data (its kmnist.data.files.data_key) in
    one layout: changes when either does."""
    text = repr((data_key, layout.columns, layout.rows, layout.tile))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def compose_page(images, page: int, layout: Layout = LAYOUT) -> np.ndarray:
    """Page `page` of the sheets: (rows x tile, columns x tile) uint8, black where no image lies. The last
    page is only as tall as the rows it fills."""
    images = to_uint8(images)
    first = page * layout.per_page
    chosen = images[first:first + layout.per_page] if page >= 0 else images[:0]
    if not len(chosen):
        raise ValueError(f"page {page} is empty: {len(images)} images make {layout.page_count(len(images))}")
    if chosen.shape[1:] != (layout.tile, layout.tile):
        raise ValueError(f"expected {layout.tile}x{layout.tile} images, got {chosen.shape[1:]}")
    rows = -(-len(chosen) // layout.columns)
    padded = np.zeros((rows * layout.columns, layout.tile, layout.tile), np.uint8)
    padded[:len(chosen)] = chosen
    return (padded.reshape(rows, layout.columns, layout.tile, layout.tile)
            .transpose(0, 2, 1, 3).reshape(rows * layout.tile, layout.columns * layout.tile))


def tile(sheet: np.ndarray, position: int, layout: Layout = LAYOUT) -> np.ndarray:
    """Image `position` cut out of its page `sheet` (compose_page's or a decoded PNG's pixels)."""
    _, row, column = layout.locate(position)
    return sheet[row * layout.tile:(row + 1) * layout.tile, column * layout.tile:(column + 1) * layout.tile]


def png_bytes(sheet: np.ndarray) -> bytes:
    """A page as a grayscale 8-bit PNG (no colour profile, so browsers draw its values as they are). zlib's
    level 6: level 9 saves little on KMNIST pages for several times the time."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(sheet, np.uint8)).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def file_name(key: str, page: int) -> str:
    return f"{key}-{page}.png"


def write_sheets(images, folder: Path, key: str, layout: Layout = LAYOUT) -> list[Path]:
    """Every page of `images` as folder/<key>-<page>.png, each written (atomically) only if missing."""

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for page in range(layout.page_count(len(images))):
        path = folder / file_name(key, page)
        if not path.exists():
            content = png_bytes(compose_page(images, page, layout))
            atomic_write(path, lambda tmp, content=content: Path(tmp).write_bytes(content))
        paths.append(path)
    return paths
