"""The ten KMNIST classes: index, hiragana character, Unicode codepoint and romaji."""

from dataclasses import dataclass


@dataclass(frozen=True)
class KanaClass:
    index: int
    char: str
    romaji: str

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"

    @property
    def name(self) -> str:
        """The class in words, such as 'お (o)': its character and romaji."""
        return f"{self.char} ({self.romaji})"

    @property
    def label(self) -> str:
        """The class in a list of all ten, such as '0 お (o)': its index, then its name."""
        return f"{self.index} {self.name}"


CLASSES = tuple(
    KanaClass(i, char, romaji)
    for i, (char, romaji) in enumerate(
        [("お", "o"), ("き", "ki"), ("す", "su"), ("つ", "tsu"), ("な", "na"),
         ("は", "ha"), ("ま", "ma"), ("や", "ya"), ("れ", "re"), ("を", "wo")]
    )
)


NUM_CLASSES = len(CLASSES)
ALL_LABELS = ", ".join(kana.label for kana in CLASSES)  # "0 お (o), 1 き (ki), ...": the ten in order
