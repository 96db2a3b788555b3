"""Japanese search for FAQ entries and archives: folding, readings, synonyms, index and ranking."""

from storage.search.engine import Hit, index, search, unindex
from storage.search.normalize import fold, key, strip_question
from storage.search.rank import AUTO_ANSWER_THRESHOLD

__all__ = [
    "AUTO_ANSWER_THRESHOLD",
    "Hit",
    "fold",
    "index",
    "key",
    "search",
    "strip_question",
    "unindex",
]
