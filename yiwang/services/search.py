"""Catalog search in Chinese: by name, by pinyin (full or initials: "bdcdj" finds 不动产登记…)
and by keywords.

The pinyin of each matter is computed once, when the matter is written (pypinyin), and stored
on the row. A search reads the catalog's few columns once into memory (an index of a few
thousand short strings), keyed by a version that changes whenever a matter changes, and scores
every matter in Python: a query over 1,508+ matters costs well under a millisecond of matching
and one cheap query to check the version.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

from django.db.models import Count, Max
from pypinyin import lazy_pinyin

_ASCII_WORD = re.compile(r"[0-9a-z]+")
_SPLIT = re.compile(r"[\s,，、;；/|]+")


def pinyin_of(text: str) -> tuple[str, str]:
    """(full pinyin without spaces, initials) of `text`, lower case; Latin letters and digits
    are kept whole in both, punctuation dropped. 不动产登记 → ("budongchandengji", "bdcdj")."""
    full: list[str] = []
    initials: list[str] = []
    for chunk in lazy_pinyin(text, errors=lambda chunk: ["\x00" + chunk]):
        if chunk.startswith("\x00"):  # not Chinese: keep its letters and digits
            words = _ASCII_WORD.findall(chunk[1:].lower())
            full.extend(words)
            initials.extend(words)
        elif chunk:
            full.append(chunk.lower())
            initials.append(chunk[0].lower())
    return "".join(full), "".join(initials)


def keyword_list(text: str) -> list[str]:
    return [word for word in _SPLIT.split(text or "") if word]


@dataclass(frozen=True)
class Entry:
    pk: int
    name: str
    pinyin: str
    initials: str
    keywords: str
    keywords_initials: str
    main_item: str
    department_id: int
    type: int
    # Everything a term can match, lower case, for a quick first pass over the catalog.
    blob: str = ""


@dataclass(frozen=True)
class Hit:
    pk: int
    score: float


class _Index:
    def __init__(self) -> None:
        self.version: tuple | None = None
        self.checked_at = 0.0
        self.entries: list[Entry] = []
        self.lock = threading.Lock()


_index = _Index()
# How long a search trusts the index without asking the database whether the catalog changed:
# a change made in another process shows within this time; in this process at once.
VERSION_CHECK_SECONDS = 2.0


def _version() -> tuple:
    from yiwang.services.models import Matter

    figures = Matter.objects.filter(is_active=True).aggregate(count=Count("pk"), last=Max("updated_at"))
    return (figures["count"], figures["last"])


def _entries() -> list[Entry]:
    from yiwang.services.models import Matter

    if _index.version is not None and time.monotonic() - _index.checked_at < VERSION_CHECK_SECONDS:
        return _index.entries
    version = _version()
    _index.checked_at = time.monotonic()
    if _index.version == version:
        return _index.entries
    with _index.lock:
        if _index.version != version:
            rows = Matter.objects.filter(is_active=True).values_list(
                "pk",
                "name",
                "name_pinyin",
                "name_initials",
                "keywords",
                "keywords_initials",
                "main_item",
                "department_id",
                "type",
            )
            _index.entries = [
                Entry(
                    pk,
                    name,
                    pinyin,
                    initials,
                    keywords.lower(),
                    keywords_initials,
                    main_item,
                    dept,
                    kind,
                    "\x00".join((name, pinyin, initials, keywords, keywords_initials, main_item)).lower(),
                )
                for pk, name, pinyin, initials, keywords, keywords_initials, main_item, dept, kind in rows
            ]
            _index.version = version
    return _index.entries


def search_index_clear() -> None:
    """Forget the index (after a write in this process: the next search reloads it)."""
    _index.version = None
    _index.checked_at = 0.0
    _index.entries = []


def _term_score(entry: Entry, term: str) -> float:
    """How well one term matches: name beats pinyin initials beats full pinyin beats keywords;
    a match at the start beats one inside; 0 if the term does not match."""
    if entry.name == term:
        return 100.0
    position = entry.name.find(term)
    if position == 0:
        return 60.0 + 20.0 * len(term) / len(entry.name)
    if position > 0:
        return 40.0 + 20.0 * len(term) / len(entry.name)
    if term.isascii():
        lower = term.lower()
        position = entry.initials.find(lower)
        if position == 0:
            return 50.0 + 20.0 * len(lower) / max(len(entry.initials), 1)
        if position > 0:
            return 30.0 + 20.0 * len(lower) / max(len(entry.initials), 1)
        if len(lower) >= 2:
            position = entry.pinyin.find(lower)
            if position == 0:
                return 35.0
            if position > 0:
                return 20.0
        if lower in entry.keywords_initials.split():
            return 18.0
    if term.lower() in entry.keywords:
        return 25.0
    if term in entry.main_item:
        return 15.0
    return 0.0


def matter_search_ids(
    *, query: str, department_ids: set[int] | None = None, type: int | None = None, limit: int = 50
) -> list[Hit]:
    """The ids of the matters matching every term of `query` (all matters when it is empty),
    best first, within the departments and type given."""
    terms = keyword_list(query.strip())
    hits: list[Hit] = []
    entries = _entries()
    for term in terms:  # a quick first pass: entries that contain every term somewhere
        lower = term.lower()
        entries = [entry for entry in entries if lower in entry.blob]
    for entry in entries:
        if department_ids is not None and entry.department_id not in department_ids:
            continue
        if type is not None and entry.type != type:
            continue
        score = 0.0
        for term in terms:
            found = _term_score(entry, term)
            if not found:
                break
            score += found
        else:
            # Shorter names first among equals: the main matter before its sub-items.
            hits.append(Hit(entry.pk, score - len(entry.name) / 1000.0))
    if terms:
        hits.sort(key=lambda hit: -hit.score)
    return hits[:limit] if limit else hits


def count_matching(*, query: str, department_ids: set[int] | None = None, type: int | None = None) -> int:
    return len(matter_search_ids(query=query, department_ids=department_ids, type=type, limit=0))
