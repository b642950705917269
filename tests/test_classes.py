"""kmnist.data.classes: the ten kana and the two ways the app writes a class."""

from kmnist.data.classes import CLASSES, NUM_CLASSES
from kmnist.pictures.compose import drawable


def test_ten_classes_in_index_order():
    assert NUM_CLASSES == len(CLASSES) == 10 and [k.index for k in CLASSES] == list(range(10))
    assert "".join(k.char for k in CLASSES) == "おきすつなはまやれを"
    assert CLASSES[9].romaji == "wo" and CLASSES[0].codepoint == "U+304A"


def test_a_class_has_a_name_and_a_label_that_adds_its_index():
    assert CLASSES[3].name == "つ (tsu)"
    assert CLASSES[3].label == "3 つ (tsu)" == f"{CLASSES[3].index} {CLASSES[3].name}"


def test_pictures_fall_back_to_romaji_without_a_hiragana_font():
    assert drawable(CLASSES[1], hiragana=True) == "き (ki)" and drawable(CLASSES[1], True, short=True) == "き"
    assert drawable(CLASSES[1], hiragana=False) == drawable(CLASSES[1], False, short=True) == "ki"
