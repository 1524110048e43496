"""Hashtags and @mentions in a post's text: pure functions, no I/O.

A hashtag is '#' then letters (any script), digits or '_', not glued to a preceding
word character (so "a#b" and URL fragments after a word are not tags); stored
lowercased. A mention is '@' then a username as the users service allows them
(3 to 30 of a-z, 0-9 and _), not preceded by a word character (so e-mail addresses
are not mentions). Each list keeps first-seen order without repeats and is capped:
whatever lies beyond the cap stays plain text.
"""

from __future__ import annotations

import re

HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})(?!\w)")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{3,30})(?![\w@])")
MAX_HASHTAGS = 30
MAX_MENTIONS = 50


def hashtags(text: str) -> list[str]:
    found = dict.fromkeys(match.lower() for match in HASHTAG.findall(text))
    return list(found)[:MAX_HASHTAGS]


def mentions(text: str) -> list[str]:
    """Lowercased usernames the text mentions, to resolve to users."""
    found = dict.fromkeys(match.lower() for match in MENTION.findall(text))
    return list(found)[:MAX_MENTIONS]


def normalize_tag(value: str) -> str | None:
    """A search term as a stored tag ('#Cats' and 'cats' alike), or None if it is not one."""
    tag = value.strip().removeprefix("#")
    if not tag or not re.fullmatch(r"\w{1,100}", tag):
        return None
    return tag.lower()
