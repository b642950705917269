"""kmnist.ui.layer_input: which inputs the Layer visualizer offers and which it opens on."""

import numpy as np

from kmnist.data.classes import CLASSES
from kmnist.ui import layer_input as li


def test_a_test_image_is_always_offered_and_opened_when_nothing_was_sent():
    assert li.sources(None, None) == ([li.TEST], li.TEST)


def test_the_input_sent_last_opens_first():
    drawing = np.zeros((28, 28), "float32")
    assert li.sources(drawing, None) == ([li.TEST, li.DRAWN], li.DRAWN)
    sent_after = {"image": drawing, "truth": 1, "caption": "x", "drawing": drawing}  # sent after that drawing
    assert li.sources(drawing, sent_after) == ([li.TEST, li.DRAWN, li.SENT], li.SENT)
    newer = np.ones((28, 28), "float32")  # the Sketch pad sent another drawing after the image
    assert li.sources(newer, sent_after)[1] == li.DRAWN
    assert li.sources(None, {**sent_after, "drawing": None}) == ([li.TEST, li.SENT], li.SENT)


def test_each_input_says_what_it_is(kmnist_data):
    position = 5
    chosen = li.from_test_set(kmnist_data, position)
    truth = int(kmnist_data.y_test[position])
    assert chosen.truth == truth
    assert chosen.caption == f"test image #{position}, true class {CLASSES[truth].label}"
    assert chosen.image.dtype == np.float32 and chosen.image.max() <= 1.0 and chosen.image.shape == (28, 28)
    drawn = li.from_drawing(np.full((28, 28), 255, "uint8"))
    assert drawn.truth is None and drawn.image.max() == 1.0 and "Sketch pad" in drawn.note
    sent = li.from_sent({"image": drawn.image, "truth": 3, "caption": "test image #9", "drawing": None})
    assert (sent.truth, sent.caption) == (3, "test image #9") and "confusion-matrix" in sent.note
