"""Unit tests for kmnist.pictures: composed grids, class sheets, tile labels, the hiragana font, map grids."""

import numpy as np
import pytest

from kmnist.data import explore
from kmnist.data.classes import CLASSES
from kmnist.pictures import compose as pictures


def test_compose_grid_places_tiles_and_labels():
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    images[2] = 255
    grid = pictures.compose_grid(images, columns=2, scale=2, gap=4, label_height=0)
    assert grid.shape == (4 + 3 * (56 + 4), 4 + 2 * (56 + 4), 3)
    tile2 = grid[4 + 60:4 + 60 + 56, 4:4 + 56]  # third image: second row, first column
    assert tile2.min() == 255
    assert grid[4:60, 4:60].max() == 0  # first image is black
    assert grid[0:4].min() == 255  # gap keeps the background
    labelled = pictures.compose_grid(images, columns=5, scale=1, labels=list("abcde"), label_height=16)
    strip = labelled[4 + 28:4 + 28 + 16, 4:4 + 28]
    assert labelled.shape[0] == 4 + 28 + 16 + 4 and strip.min() < 128  # text drawn under the tile
    with pytest.raises(ValueError):
        pictures.compose_grid(images, columns=2, labels=["only one"])
    with pytest.raises(ValueError):
        pictures.compose_grid(images, columns=0)


def test_pictures_for_gallery_rows_and_means(synthetic):
    images, labels = synthetic
    gallery = pictures.gallery_picture(images, labels, np.arange(10), columns=5, scale=2)
    assert gallery.ndim == 3 and gallery.shape[1] == 4 + 5 * (56 + 4)
    rows = pictures.class_rows_picture(images, explore.class_examples(labels, per_class=3))
    assert rows.shape[0] == 4 + 10 * (56 + 4)
    means = pictures.means_picture(explore.mean_images(images, labels), scale=1)
    assert means.shape[1] == 4 + 10 * (28 + 4)
    assert means[4 + 2, 4 + 2].tolist() == [255, 255, 255]  # class 0's mean (20) is stretched to 255


def test_tile_label_with_and_without_hiragana():
    assert pictures.tile_label(12, 0, hiragana=True) == "#12 お (o)"
    assert pictures.tile_label(7, 9, hiragana=False) == "#7 wo"
    assert pictures.tile_label(3, np.uint8(3), hiragana=True) == f"#3 {CLASSES[3].name}" == "#3 つ (tsu)"


def test_find_cjk_font_honours_env_and_rejects_latin_fonts(monkeypatch, tmp_path):
    not_a_font = tmp_path / "x.ttf"
    not_a_font.write_bytes(b"nope")
    monkeypatch.setenv(pictures.FONT_ENV, str(not_a_font))
    pictures._find_cjk_font.cache_clear()
    found = pictures.find_cjk_font()
    assert found != str(not_a_font)
    assert found is None or pictures._draws_hiragana(found)
    assert not pictures._draws_hiragana(str(not_a_font))


def test_labels_never_run_into_the_tiles():
    """Row labels widen their column to fit; tile labels shrink until they fit under their tile."""
    images = np.full((4, 28, 28), 255, "uint8")
    long_row_label = "つ tsu, the long way round"
    picture = pictures.compose_grid(images, columns=2, scale=2, row_labels=[long_row_label, "ま ma"])
    font = pictures.label_font(28)
    tiles_width = 2 * (56 + 4) + 4
    assert picture.shape[1] - tiles_width >= font.getlength(long_row_label)
    texts = ["#12345 つ tsu"] * 4
    fitted = pictures._fitting_font(texts, 12, 56 + 2)
    assert max(fitted.getlength(text) for text in texts) <= 58


def test_a_grid_of_maps_is_drawn_in_plotlys_viridis_with_blank_gaps_and_whole_square_cells():
    from plotly.colors import hex_to_rgb, sequential

    from kmnist.inspect.grids import feature_grid
    from kmnist.pictures.map_grids import grid_picture

    maps = np.random.default_rng(0).random((4, 4, 3)).astype("float32")
    grid = feature_grid(maps, columns=2)  # 2 rows of 2 maps, one gap line and column, one empty slot
    picture = grid_picture(grid, width=100)
    scale = 100 // grid.shape[1]
    assert picture.dtype == np.uint8 and picture.shape == (grid.shape[0] * scale, grid.shape[1] * scale, 3)
    lowest = np.unravel_index(np.argmin(maps[..., 0]), (4, 4))  # each map stretched: its lowest is 0
    highest = np.unravel_index(np.argmax(maps[..., 0]), (4, 4))
    assert tuple(picture[lowest[0] * scale, lowest[1] * scale]) == hex_to_rgb(sequential.Viridis[0])
    assert tuple(picture[highest[0] * scale, highest[1] * scale]) == hex_to_rgb(sequential.Viridis[-1])
    assert (picture[4 * scale:5 * scale] == 255).all()  # the gap between the rows is blank
    assert (picture[5 * scale:, 5 * scale:] == 255).all()  # the fourth slot has no map
    cell = picture[:scale, :scale]
    assert (cell == cell[0, 0]).all()  # a cell is enlarged whole, one colour
