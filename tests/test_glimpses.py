"""The live view's pictures of what the network sees: the validation strip and the first layer's filters."""

import numpy as np
import pytest

from kmnist.pictures import compose as pictures
from kmnist.pictures import training as glimpses


def live_records(run=None, epochs_seen=1, strip=range(10)):
    """A run's begin record with its strip and filters, then a glimpse after each epoch seen."""
    labels = list(strip)
    out = [{"kind": "begin", "epochs": 3, "steps": 2, "strip_labels": labels,
            "strip_images": np.full((len(labels), 28, 28), 200, np.uint8),
            "filters": np.zeros((16, 3, 3), np.float32)}]
    for epoch in range(1, epochs_seen + 1):
        predicted = [(label + epoch) % 10 if label < 3 else label for label in labels]  # 3 wrong
        out.append({"kind": "glimpse", "epoch": epoch, "predicted": predicted,
                    "confidence": [0.5 + 0.01 * label for label in labels],
                    "filters": np.full((16, 3, 3), float(epoch), np.float32)})
    return [r | {"run": run} for r in out] if run else out


def card_history():
    return [{"kind": "epoch", "epoch": 1, "loss": 1.0, "val_loss": 1.1}]


def label_pixels(picture, row: int, column: int, ink, tile: int = 84, label: int = 20, gap: int = 4) -> int:
    """How many pixels of colour `ink` the label under the tile at (`row`, `column`) holds."""
    top, left = gap + row * (tile + label + gap) + tile, gap + column * (tile + gap)
    strip = picture[top:top + label, left:left + tile]
    return int(np.all(strip == np.array(ink, np.uint8), axis=-1).sum())


@pytest.mark.parametrize("hiragana", [True, False])
def test_validation_strip_labels_each_image_with_its_prediction_in_green_or_red(monkeypatch, hiragana):
    monkeypatch.setattr(glimpses, "can_draw_hiragana", lambda: hiragana)
    calls = []
    compose = pictures.compose_grid
    monkeypatch.setattr(glimpses, "compose_grid", lambda *a, **k: calls.append(k) or compose(*a, **k))
    strip = glimpses.validation_strip(live_records(epochs_seen=2), scale=3)
    assert strip.title == "Validation strip after epoch 2"
    texts = calls[0]["labels"]
    assert texts[0] == ("お→す 50%" if hiragana else "o→su 50%") and texts[9].endswith(" 59%")
    assert calls[0]["inks"] == [glimpses.WRONG_INK] * 3 + [glimpses.RIGHT_INK] * 7
    picture = strip.picture  # two rows of five
    assert picture.dtype == np.uint8 and picture.shape[2] == 3 and picture.shape[1] == 4 + 5 * (84 + 4)
    assert picture.shape[0] == 4 + 2 * (84 + 20 + 4)
    right, wrong = glimpses.RIGHT_INK, glimpses.WRONG_INK
    assert label_pixels(picture, 0, 0, wrong) > 0 and label_pixels(picture, 0, 0, right) == 0
    assert label_pixels(picture, 1, 4, right) > 0 and label_pixels(picture, 1, 4, wrong) == 0
    assert (picture[4:4 + 84, 4:4 + 84] == 200).all()  # the image itself, three times larger


def test_validation_strip_before_the_first_epoch_and_without_a_strip():
    waiting = glimpses.validation_strip(live_records(epochs_seen=0, strip=range(4)))
    assert waiting.title == "Validation strip: predictions appear after epoch 1"
    assert waiting.picture.shape[1] == 4 + 4 * (84 + 4)  # one row of four
    assert glimpses.validation_strip(card_history()) is None  # a card's history carries no strip
    assert glimpses.first_layer_filters(card_history()) is None


def test_live_pictures_follow_the_latest_run_of_a_pair():
    pair = live_records("p-max", epochs_seen=3) + live_records("p-avg", epochs_seen=0)
    assert glimpses.validation_strip(pair).title.startswith("Validation strip: predictions appear")
    assert glimpses.first_layer_filters(pair).title.endswith("before training")


def test_first_layer_filters_are_one_picture_red_positive_blue_negative():
    records = live_records(epochs_seen=0)
    records[0]["filters"] = np.stack([np.full((3, 3), v, np.float32) for v in [-2.0, 0.0, 1.0, 2.0] * 4])
    filters = glimpses.first_layer_filters(records, columns=8, scale=10)
    assert filters.title == "First conv layer: 16 filters of 3×3, before training"
    picture = filters.picture
    assert picture.shape == (4 + 2 * 34, 4 + 8 * 34, 3)
    tile = lambda n: picture[4 + (n // 8) * 34 + 15, 4 + (n % 8) * 34 + 15]  # noqa: E731 (centre pixel)
    assert tile(0).tolist() == glimpses.NEGATIVE.tolist() and tile(1).tolist() == glimpses.ZERO.tolist()
    assert tile(3).tolist() == glimpses.POSITIVE.tolist()
    assert tile(2).tolist() == ((glimpses.ZERO + glimpses.POSITIVE) / 2).round().astype(int).tolist()
    later = glimpses.first_layer_filters(live_records(epochs_seen=2))
    assert later.title == "First conv layer: 16 filters of 3×3, after epoch 2"


def test_diverging_scales_by_the_largest_magnitude_and_survives_all_zeros():
    rgb = glimpses.diverging(np.array([-4.0, 0.0, 4.0]))
    assert rgb.tolist() == [glimpses.NEGATIVE.tolist(), glimpses.ZERO.tolist(), glimpses.POSITIVE.tolist()]
    assert glimpses.diverging(np.zeros(3)).tolist() == [glimpses.ZERO.tolist()] * 3
    diverged = glimpses.diverging(np.array([np.nan, np.inf, -2.0]))  # a run whose weights blew up
    assert diverged.tolist() == [glimpses.ZERO.tolist()] * 2 + [glimpses.NEGATIVE.tolist()]
