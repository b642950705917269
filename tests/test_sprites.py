"""Sprite sheets: every tile is exactly its image, also in the PNG the browser loads; pages written once."""

import io
import subprocess

import numpy as np
import pytest
from PIL import Image

from kmnist.pictures import sprites
from kmnist.pictures.sprites import Layout
from tests.conftest import ROOT

SMALL = Layout(columns=4, rows=3)  # 12 images a page, so a few dozen images span several pages


def random_images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28), dtype=np.uint8)


def decoded(content: bytes) -> np.ndarray:
    picture = Image.open(io.BytesIO(content))
    assert picture.mode == "L"  # grayscale: no palette or colour profile for the browser to apply
    return np.asarray(picture)


def test_locate_walks_pages_rows_and_columns():
    assert SMALL.per_page == 12 and sprites.LAYOUT.per_page == 1000
    assert SMALL.locate(0) == (0, 0, 0)
    assert SMALL.locate(3) == (0, 0, 3)
    assert SMALL.locate(4) == (0, 1, 0)
    assert SMALL.locate(11) == (0, 2, 3)
    assert SMALL.locate(12) == (1, 0, 0)
    assert SMALL.locate(29) == (2, 1, 1)
    assert sprites.LAYOUT.locate(6999) == (6, 24, 39)
    assert [SMALL.page_count(n) for n in (1, 12, 13, 24, 25)] == [1, 1, 2, 2, 3]
    with pytest.raises(ValueError):
        SMALL.locate(-1)


def test_every_tile_of_every_page_is_exactly_its_image():
    images = random_images(29)  # pages of 12, 12 and 5 images
    seen = 0
    for page in range(SMALL.page_count(len(images))):
        sheet = sprites.compose_page(images, page, SMALL)
        for position in range(page * SMALL.per_page, min(len(images), (page + 1) * SMALL.per_page)):
            _, row, column = SMALL.locate(position)
            cut = sheet[row * 28:(row + 1) * 28, column * 28:(column + 1) * 28]  # not via sprites.tile
            np.testing.assert_array_equal(cut, images[position])
            np.testing.assert_array_equal(sprites.tile(sheet, position, SMALL), images[position])
            seen += 1
    assert seen == len(images)


def test_pages_have_the_layout_size_and_the_last_only_its_rows():
    images = random_images(29)
    assert sprites.compose_page(images, 0, SMALL).shape == (3 * 28, 4 * 28)
    last = sprites.compose_page(images, 2, SMALL)  # 5 images: two rows, the second holding one image
    assert last.shape == (2 * 28, 4 * 28)
    assert not last[28:, 28:].any()  # no image there: black
    with pytest.raises(ValueError, match="empty"):
        sprites.compose_page(images, 3, SMALL)
    with pytest.raises(ValueError, match="empty"):
        sprites.compose_page(images, -1, SMALL)


def test_written_pngs_decode_to_the_images(tmp_path):
    images = random_images(30, seed=3)
    key = sprites.sprite_key("0123456789abcdef", SMALL)
    paths = sprites.write_sheets(images, tmp_path / "sprites", key, SMALL)
    assert [p.name for p in paths] == [f"{key}-{page}.png" for page in range(3)]
    for position in range(len(images)):
        page, row, column = SMALL.locate(position)
        sheet = decoded(paths[page].read_bytes())
        np.testing.assert_array_equal(sheet[row * 28:(row + 1) * 28, column * 28:(column + 1) * 28],
                                      images[position])
    assert not list((tmp_path / "sprites").glob("*.tmp*"))  # written atomically: no leftovers


def test_existing_pages_are_not_written_again(tmp_path):
    images = random_images(13)
    paths = sprites.write_sheets(images, tmp_path, "k", SMALL)
    paths[0].write_bytes(b"kept")
    assert sprites.write_sheets(images, tmp_path, "k", SMALL) == paths
    assert paths[0].read_bytes() == b"kept"


def test_the_key_follows_the_data_key_and_the_layout():
    key = sprites.sprite_key("0123456789abcdef")  # kmnist.data.files.data_key of one split
    assert key == sprites.sprite_key("0123456789abcdef") and len(key) == 16
    assert key != sprites.sprite_key("fedcba9876543210")
    assert key != sprites.sprite_key("0123456789abcdef", SMALL)


def test_written_sprites_are_never_committed():
    folder = "kmnist/ui/map_hover/assets/sprites/0123456789abcdef-0.png"
    ignored = subprocess.run(["git", "check-ignore", "-q", folder], cwd=ROOT)
    assert ignored.returncode == 0, f"{folder} is not ignored by git"
