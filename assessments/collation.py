"""Vietnamese alphabetical order, the same on SQLite and PostgreSQL.

Neither database sorts Vietnamese correctly out of the box (PostgreSQL here runs the C.UTF-8
collation; SQLite has no Vietnamese collation at all), so each unit and village stores a sort key
computed here and lists order by it: "Đình Lập" after "Dương" and before "Gia Cát".
"""

from __future__ import annotations

import unicodedata

# Letters in the order of the Vietnamese alphabet; f, j, w, z appear in foreign names.
ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
# Modifiers that make a distinct letter of a base letter (a + breve = ă …).
LETTER_MARKS = {"\u0306": "ă", "\u0302": "^", "\u031b": "+"}
# Tones, in dictionary order after the level tone: huyền, hỏi, ngã, sắc, nặng.
TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
UNIT_PREFIXES = ("thành phố ", "thị trấn ", "thị xã ", "phường ", "huyện ", "quận ", "xã ")


def short_name(name: str) -> str:
    """The name without its kind ("Huyện Đình Lập" → "Đình Lập")."""
    lowered = name.casefold()
    for prefix in UNIT_PREFIXES:
        if lowered.startswith(prefix):
            return name[len(prefix) :]
    return name


def _letter(base: str, marks: str) -> str:
    if base == "a" and "\u0306" in marks:
        return "ă"
    if base in "aeo" and "\u0302" in marks:
        return {"a": "â", "e": "ê", "o": "ô"}[base]
    if base in "ou" and "\u031b" in marks:
        return {"o": "ơ", "u": "ư"}[base]
    return base


def sort_key(name: str) -> str:
    """A plain-ASCII key whose byte order is Vietnamese alphabetical order of the short name."""
    primary, tones = [], []
    decomposed = unicodedata.normalize("NFD", short_name(name).casefold().strip())
    index = 0
    while index < len(decomposed):
        char = decomposed[index]
        index += 1
        marks = ""
        while index < len(decomposed) and unicodedata.combining(decomposed[index]):
            marks += decomposed[index]
            index += 1
        letter = _letter(char, marks)
        if letter in ALPHABET:
            primary.append(chr(ord("A") + ALPHABET.index(letter)))
            tones.append(next((TONES[m] for m in marks if m in TONES), "0"))
        elif char.isdigit():
            primary.append(char)
        elif char.isspace() or char in "-–,.()":
            primary.append("!")
        # other symbols do not affect the order
    # The separator sorts below every key character, so "Hòa Bình" comes before "Hòa Bình Xã".
    return "".join(primary) + " " + "".join(tones)
