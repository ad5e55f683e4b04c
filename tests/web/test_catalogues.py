"""All apps' translation catalogues merge into one: the same English text (with the same
context) must not mean two different things in two apps."""

import re
from collections import defaultdict
from pathlib import Path

from django.utils import translation

import yiwang

ENTRY = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$')


def _entries(path: Path) -> dict[tuple[str, str], str]:
    """(context, msgid) → msgstr of one .po file (continuation lines joined; header skipped)."""
    entries, current, key = {}, {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = ENTRY.match(line)
        if match:
            key = match.group(1)
            current[key] = match.group(2)
        elif line.startswith('"') and key:
            current[key] += line[1:-1]
        elif not line.strip():
            if current.get("msgid"):
                entries[(current.get("msgctxt", ""), current["msgid"])] = current.get(
                    "msgstr", current.get("msgstr[0]", "")
                )
            current, key = {}, None
    return entries


def test_no_text_is_translated_two_ways_across_apps():
    catalogues = sorted(Path(yiwang.__file__).parent.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))
    assert len(catalogues) >= 3
    seen: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for path in catalogues:
        for key, text in _entries(path).items():
            if text:
                seen[key][path.parts[-5]] = text
    clashes = {key: apps for key, apps in seen.items() if len(set(apps.values())) > 1}
    assert clashes == {}, "give these msgids a context (pgettext) or one translation"


def test_closed_means_the_right_thing_in_each_place():
    with translation.override("zh-hans"):
        assert translation.pgettext("sharing class", "Closed") == "不予共享"
        assert translation.gettext("Closed at") == "办结时间"
