"""What a search matches: text folded as the index folds it, a query cut into words, and each word
into the index terms that find it (character pairs of Chinese, or of anything else).

Chinese is written without spaces, so there are no words to index: 「性別意識培力」 is one run of
characters. The index (migration 0018) stores, for each run of word characters, every character
and every pair of adjacent characters. A query word asks for its pairs (or its one character), which
narrows the cases to a few through the index, and then for the word itself in the folded text, so
「培力」, 「意識培」 and 「113年」 are each found wherever they occur, inside a longer word too.
Folding is NFKC (full-width 「１１３」 is 113) then ASCII lower case, on both sides.

This module and the PostgreSQL functions of migration 0018 must cut text the same way;
``tests/test_search.py`` holds them to each other.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from workflow.errors import ValidationError

# Word characters after folding (the same ranges as migration 0018's WORD): ASCII digits and
# letters, accented Latin letters, 々〆〇, kana, bopomofo, CJK ideographs (extension A, the unified
# block, compatibility ideographs, extensions B-G) and Hangul syllables.
WORD_RANGES: tuple[tuple[int, int], ...] = (
    (0x30, 0x39), (0x61, 0x7A), (0xC0, 0x24F), (0x3005, 0x3007), (0x3040, 0x30FF), (0x3100, 0x312F),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0x20000, 0x3134F),
)
_RUN = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in WORD_RANGES) + "]+")
_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffe\uffff]")

MAX_LENGTH = 100  # characters of a query
MAX_WORDS = 8


def fold(text: str) -> str:
    """NFKC, then ASCII letters in lower case (other scripts as they are: the same on every
    database, whatever its locale)."""
    return unicodedata.normalize("NFKC", text).translate(_UPPER)


def terms(folded: str) -> set[str]:
    """The index terms of folded text: each character and each adjacent pair of every run of word
    characters (what migration 0018's ``case_search_terms`` stores)."""
    out: set[str] = set()
    for run in _RUN.findall(folded):
        out.update(run)
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True)
class Word:
    """One word of a query: as typed (``raw``, trimmed) and folded."""

    raw: str
    folded: str

    @property
    def terms(self) -> set[str]:
        """The terms that every text containing this word has: its pairs, or a lone character."""
        out: set[str] = set()
        for run in _RUN.findall(self.folded):
            out.update([run] if len(run) == 1 else (run[i:i + 2] for i in range(len(run) - 1)))
        return out


@dataclass(frozen=True)
class Query:
    text: str  # as typed, control characters removed
    words: tuple[Word, ...]  # all must be found (AND)

    @property
    def terms(self) -> list[str]:
        return sorted({t for w in self.words for t in w.terms})


def _error(zh: str, en: str) -> ValidationError:
    return ValidationError({"q": (zh, en)}, labels={"q": ("", "")})


def parse(text: str) -> Query:
    """A query: words separated by spaces, each of which must be found. Words without a letter,
    digit or ideograph (「-」, 「%」) are left out; a query with nothing else is refused, as is an
    overlong one, with a message saying what to type instead."""
    cleaned = _CONTROL.sub(" ", text or "")
    if not cleaned.strip():
        raise _error("請輸入要找的字詞，例如標題中的「培力」。",
                     "Type a word to look for, e.g. a word of the title.")
    if len(cleaned.strip()) > MAX_LENGTH:
        raise _error(f"搜尋字詞最多 {MAX_LENGTH} 字（目前 {len(cleaned.strip())} 字），請縮短後再搜尋。",
                     f"A search is at most {MAX_LENGTH} characters (this one has {len(cleaned.strip())}); "
                     "shorten it and search again.")
    words: list[Word] = []
    for raw in cleaned.split():
        folded = fold(raw)
        if _RUN.search(folded) and all(w.folded != folded for w in words):
            words.append(Word(raw, folded))
    if not words:
        raise _error("搜尋字詞需要有文字或數字：只有空白、標點或符號無法搜尋。",
                     "A search needs letters, digits or characters: spaces, punctuation and symbols "
                     "alone cannot be searched.")
    if len(words) > MAX_WORDS:
        raise _error(f"最多 {MAX_WORDS} 個詞（以空白分開），請減少後再搜尋。",
                     f"At most {MAX_WORDS} words (separated by spaces); use fewer and search again.")
    return Query(" ".join(cleaned.split()), tuple(words))


def locate(text: str, word: str) -> tuple[int, int] | None:
    """Where ``word`` (folded) first occurs in ``text`` under folding, as (start, end) in ``text``;
    None if it does not. Each character is folded on its own, so positions map back exactly."""
    if not text or not word:
        return None
    pieces = [fold(ch) for ch in text]
    folded = "".join(pieces)
    at = folded.find(word)
    if at < 0:
        return None
    starts: list[int] = []  # folded offset -> the text index it came from
    for i, piece in enumerate(pieces):
        starts.extend([i] * len(piece))
    end = at + len(word) - 1
    return starts[at], starts[end] + 1
