"""Service-model (Java) regex patterns, translated for Python's ``re``.

The model's patterns are Java regexes, matched against the whole value. Python's ``re`` has
no \\p{..} classes, so they are expanded from unicodedata once per process.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

_POSIX_CLASSES = {"Alnum": "a-zA-Z0-9", "Alpha": "a-zA-Z", "Digit": "0-9", "Upper": "A-Z"}
_JAVA_END_REPEAT = re.compile(r"\$\{\d+(,\d*)?\}$")  # Java accepts "$" with a quantifier
_JAVA_SURROGATE_PAIR = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)


def _join_surrogates(match: re.Match[str]) -> str:
    high, low = (int(group, 16) for group in match.groups())
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


@functools.cache
def _unicode_runs() -> tuple[tuple[int, int, str], ...]:
    """Runs of consecutive code points sharing a general category: (first, last, category)."""
    runs: list[tuple[int, int, str]] = []
    for code in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code))
        if runs and runs[-1][2] == category:
            runs[-1] = (runs[-1][0], code, category)
        else:
            runs.append((code, code, category))
    return tuple(runs)


def prepare() -> None:
    """Build the Unicode category table now (~0.5 s, once per process) rather than in the
    first request checked against a ``\\p{..}`` pattern (a description, say)."""
    _unicode_runs()


@functools.cache
def _class_body(name: str) -> str:
    if name in _POSIX_CLASSES:
        return _POSIX_CLASSES[name]
    if len(name) > 2:
        raise ValueError(f"unsupported character class \\p{{{name}}}")
    spans: list[tuple[int, int]] = []
    for first, last, category in _unicode_runs():
        if not category.startswith(name):
            continue
        if spans and spans[-1][1] == first - 1:  # merge e.g. adjacent Lu and Ll runs
            spans[-1] = (spans[-1][0], last)
        else:
            spans.append((first, last))
    if not spans:
        raise ValueError(f"unknown Unicode category \\p{{{name}}}")
    return "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in spans)


def _translate_java_pattern(pattern: str) -> str:
    pattern = _JAVA_SURROGATE_PAIR.sub(_join_surrogates, _JAVA_END_REPEAT.sub("$", pattern))
    out: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        if pattern.startswith("\\p{", i):
            end = pattern.index("}", i)
            body = _class_body(pattern[i + 3 : end])
            out.append(body if in_class else f"[{body}]")
            i = end + 1
            continue
        step = 2 if pattern[i] == "\\" else 1
        in_class = {"[": True, "]": False}.get(pattern[i], in_class)
        out.append(pattern[i : i + step])
        i += step
    return "".join(out)


@functools.cache
def compile_model_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a service-model (Java) pattern for full matching; None if unsupported."""
    try:
        return re.compile(_translate_java_pattern(pattern), re.ASCII)  # Java's \d \s \w: ASCII
    except (ValueError, re.error):
        return None
