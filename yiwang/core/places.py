"""Placing a free-text address in the city: address → town (街道/乡镇) and, where named, village
or community. Callers say "安源区丹江街建设社区3栋", "芦溪县南坑镇滨河路"; the division names
are the city's own (core_division), so this is a dictionary match, not a geocoder: the
deepest division whose name appears, with a village accepted only when its town is named
too or its name is unique in the city."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from yiwang.core.models import Division, DivisionLevel


@dataclass(frozen=True)
class _Entry:
    code: str
    name: str
    level: int
    parent: str | None


def _aliases(name: str) -> list[str]:
    names = [name]
    if name.endswith("街街道"):  # 丹江街街道 is written 丹江街
        names.append(name[: -len("街道")])
    return names


@lru_cache(maxsize=1)
def _index(version: int) -> tuple[dict[str, list[_Entry]], dict[str, str | None]]:
    """Division names (and aliases) → divisions; code → parent code. `version` (the row
    count) makes a changed reference table build a new index."""
    by_name: dict[str, list[_Entry]] = {}
    parents: dict[str, str | None] = {}
    rows = Division.objects.filter(level__gte=DivisionLevel.COUNTY).values_list(
        "code", "name", "level", "parent_id"
    )
    for code, name, level, parent in rows:
        parents[code] = parent
        for alias in _aliases(name):
            by_name.setdefault(alias, []).append(_Entry(code, alias, level, parent))
    return by_name, parents


def places_reset() -> None:
    """Forget the cached division names (after the reference data changed; tests)."""
    _index.cache_clear()


def division_from_address(address: str) -> Division | None:
    """The village/community or else the town the address names, or None when it names no
    town of the city (or only a village name several towns share)."""
    text = "".join((address or "").split())
    if not text:
        return None
    by_name, parents = _index(Division.objects.count())
    found = [
        (text.find(name), entry) for name, entries in by_name.items() if name in text for entry in entries
    ]
    counties = {entry.code for _, entry in found if entry.level == DivisionLevel.COUNTY}
    in_named_county = [
        (position, entry)
        for position, entry in found
        if not counties or entry.level == DivisionLevel.COUNTY or _county_of(entry.code, parents) in counties
    ]
    towns = sorted(
        (position, entry.code) for position, entry in in_named_county if entry.level == DivisionLevel.TOWN
    )
    town_codes = {code for _, code in towns}
    villages = [entry for _, entry in in_named_county if entry.level == DivisionLevel.VILLAGE]
    if town_codes:
        villages = [entry for entry in villages if entry.parent in town_codes]
    else:  # no town named: a village only if its name is the only one of its kind
        villages = [
            entry
            for entry in villages
            if sum(1 for other in by_name[entry.name] if other.level == DivisionLevel.VILLAGE) == 1
        ]
    if len(villages) == 1:
        return Division.objects.get(pk=villages[0].code)
    if towns:  # several towns named ("从湘东镇到安源镇"): the first one in the text
        return Division.objects.get(pk=towns[0][1])
    return None


def _county_of(code: str, parents: dict[str, str | None]) -> str | None:
    while code and len(code) > 6:
        code = parents.get(code) or ""
    return code or None
