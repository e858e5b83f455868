"""Phrase alternations rewritten as a trie of first characters, so the regex engine skips fast.

Python's regex engine tries the alternatives of ``(?:unacceptable|ridiculous|pathetic|…)`` one
after the other at every position it reaches. Written as ``(?:u(?:nacceptable|…)|r(?:idiculous|…)|…)``
each branch starts with a literal character, which the engine rejects with one comparison, so
a table of a hundred phrases costs a handful of comparisons per position instead of a hundred.

:func:`factor` rewrites every non-capturing group whose alternatives all start with a literal
character (after fixed lookbehinds, which move behind that character: ``(?<!not )u…`` becomes
``u(?<!not u)…``); a leading non-capturing group is distributed first (``(?:is|was) down`` is
``is down|was down``). Alternatives keep their order within a first character and alternatives
with different first characters never match at the same position, so the rewritten pattern
matches exactly what the original matches, with the same priority. Anything it does not
understand is left as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_QUANT_START = "?*+{"
# Characters that are not literals when they stand alone in a pattern.
_SPECIAL = ".^$"
# Distributing leading groups must not blow a table up.
_MAX_ALTERNATIVES = 400


@dataclass(slots=True)
class _Item:
    kind: str  # "lit" (one literal character), "atom" (anything else), "group"
    text: str = ""  # the item as written (for "lit": the character, escaped as written)
    char: str = ""  # "lit": the character it matches
    prefix: str = ""  # "group": "?:", "?=", "?!", "?<=" or "?<!"
    alternatives: list[list[_Item]] = field(default_factory=list)
    quant: str = ""


def factor(pattern: str) -> str:
    """``pattern`` with its phrase alternations written as first-character tries (same matches)."""
    try:
        items, end = _parse_sequence(pattern, 0)
        if end != len(pattern):
            return pattern  # an alternation at the top level: leave it
        return _write(_rewrite(items))
    except (IndexError, ValueError):
        return pattern  # an optimisation only: anything unexpected leaves the pattern as written


# ----------------------------------------------------------------------------- parsing


def _parse_alternatives(s: str, i: int) -> tuple[list[list[_Item]], int]:
    alternatives = []
    while True:
        seq, i = _parse_sequence(s, i)
        alternatives.append(seq)
        if i < len(s) and s[i] == "|":
            i += 1
            continue
        return alternatives, i


def _parse_sequence(s: str, i: int) -> tuple[list[_Item], int]:
    items: list[_Item] = []
    while i < len(s) and s[i] not in "|)":
        c = s[i]
        if c == "\\":
            item, i = _parse_escape(s, i)
        elif c == "[":
            j = i + 1
            if j < len(s) and s[j] == "^":
                j += 1
            if j < len(s) and s[j] == "]":
                j += 1
            while s[j] != "]":
                j += 2 if s[j] == "\\" else 1
            item, i = _Item("atom", s[i : j + 1]), j + 1
        elif c == "(":
            j = i + 1
            if s[j] != "?" or s.startswith("?P", j):
                # A capturing group would be copied when distributed (and renumbered): leave it.
                raise ValueError("capturing group")
            if s.startswith(("?<!", "?<="), j):
                prefix = s[j : j + 3]
            elif s[j + 1] in ":=!":
                prefix = s[j : j + 2]
            else:
                raise ValueError("unsupported group")
            alternatives, k = _parse_alternatives(s, j + len(prefix))
            if s[k] != ")":
                raise ValueError("unbalanced group")
            item, i = _Item("group", prefix=prefix, alternatives=alternatives), k + 1
        elif c in _QUANT_START:
            raise ValueError("quantifier without an item")
        elif c in _SPECIAL:
            item, i = _Item("atom", c), i + 1
        else:
            item, i = _Item("lit", c, c), i + 1
        i = _parse_quantifier(s, i, item)
        items.append(item)
    return items, i


def _parse_escape(s: str, i: int) -> tuple[_Item, int]:
    c = s[i + 1]
    width = {"x": 2, "u": 4, "U": 8}.get(c)
    if width:
        text = s[i : i + 2 + width]
        return _Item("lit", text, chr(int(text[2:], 16))), i + 2 + width
    if c.isalnum():  # \b \w \d \s \1 …: not one literal character
        return _Item("atom", s[i : i + 2]), i + 2
    return _Item("lit", s[i : i + 2], c), i + 2


def _parse_quantifier(s: str, i: int, item: _Item) -> int:
    if i >= len(s) or s[i] not in _QUANT_START:
        return i
    j = i + 1
    if s[i] == "{":
        j = s.index("}", i) + 1
    if j < len(s) and s[j] in "?+":
        j += 1
    item.quant = s[i:j]
    return j


# ----------------------------------------------------------------------------- rewriting


def _rewrite(items: list[_Item]) -> list[_Item]:
    out = []
    for item in items:
        if item.kind == "group":
            alternatives = [_rewrite(alt) for alt in item.alternatives]
            if item.prefix == "?:" and len(alternatives) > 1:
                alternatives = _trie(alternatives)
            item = _Item("group", prefix=item.prefix, alternatives=alternatives, quant=item.quant)
        out.append(item)
    return out


def _trie(alternatives: list[list[_Item]]) -> list[list[_Item]]:
    """The alternatives grouped by first character (order kept within a character), or unchanged."""
    split = _split_all(alternatives)
    if split is None:
        return alternatives
    buckets: dict[str, list[tuple[_Item, list[_Item]]]] = {}
    for first, rest in split:
        buckets.setdefault(first.char, []).append((first, rest))
    if len(buckets) == len(split):
        # Every first character is different: the engine already rejects each branch at once
        # (when it starts with a literal); only the moved lookbehinds could differ. Keep them.
        return [[first, *rest] for first, rest in split]
    out = []
    for entries in buckets.values():
        first = entries[0][0]
        if len(entries) == 1:
            out.append([first, *entries[0][1]])
            continue
        inner = _trie([rest for _, rest in entries])
        out.append([first, _Item("group", prefix="?:", alternatives=inner)])
    return out


def _split_all(alternatives: list[list[_Item]]) -> list[tuple[_Item, list[_Item]]] | None:
    expanded: list[list[_Item]] = []
    for alt in alternatives:
        expanded += _distribute(alt)
        if len(expanded) > _MAX_ALTERNATIVES:
            return None
    split = []
    for alt in expanded:
        one = _split(alt)
        if one is None:
            return None
        split.append(one)
    return split


def _distribute(alt: list[_Item]) -> list[list[_Item]]:
    """``L(?:a|b)rest`` as ``L a rest`` and ``L b rest`` (L: leading lookbehinds); else as written."""
    k = 0
    while k < len(alt) and _is_lookbehind(alt[k]):
        k += 1
    if k < len(alt) and alt[k].kind == "group" and alt[k].prefix == "?:" and not alt[k].quant:
        out = []
        for inner in alt[k].alternatives:
            out += _distribute([*alt[:k], *inner, *alt[k + 1 :]])
            if len(out) > _MAX_ALTERNATIVES:
                break
        return out
    return [alt]


def _split(alt: list[_Item]) -> tuple[_Item, list[_Item]] | None:
    """(first literal character, the rest with the lookbehinds moved behind it), or None."""
    k = 0
    while k < len(alt) and _is_lookbehind(alt[k]):
        k += 1
    if k >= len(alt) or alt[k].kind != "lit" or alt[k].quant:
        return None
    first = alt[k]
    moved = [
        _Item("group", prefix=lb.prefix, alternatives=[[*lb.alternatives[0], _copy(first)]]) for lb in alt[:k]
    ]
    return first, [*moved, *alt[k + 1 :]]


def _is_lookbehind(item: _Item) -> bool:
    return (
        item.kind == "group"
        and item.prefix in ("?<!", "?<=")
        and not item.quant
        and len(item.alternatives) == 1
        and all(i.kind == "lit" and not i.quant for i in item.alternatives[0])
    )


def _copy(item: _Item) -> _Item:
    return _Item(item.kind, item.text, item.char)


# ----------------------------------------------------------------------------- writing


def _write(items: list[_Item]) -> str:
    parts = []
    for item in items:
        if item.kind == "group":
            body = "|".join(_write(alt) for alt in item.alternatives)
            parts.append(f"({item.prefix}{body}){item.quant}")
        else:
            parts.append(item.text + item.quant)
    return "".join(parts)
