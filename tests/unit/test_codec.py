"""The shared metadata codec: lossless under every budget, refuses what does not fit
(naming the field), and detects a lost or garbled value."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from modelport.backends.kit.codec import (
    Budget,
    CorruptMetadataError,
    Encoding,
    RecordTooLargeError,
    decode,
    encode,
    holds_record,
)

SAGEMAKER_CHARS = string.ascii_letters + string.digits + " _.:/=+-@"
LABEL_CHARS = string.ascii_lowercase + string.digits + "_-"
MLFLOW_LIKE = Budget(
    where="MLflow tags",
    prefix="modelport.record.",
    encoding=Encoding.JSON,
    max_value_length=5000,
    max_key_length=250,
    index_width=3,
)
SAGEMAKER_LIKE = Budget(
    where="SageMaker properties",
    prefix="modelport.r.",
    encoding=Encoding.ZLIB_BASE64,
    max_value_length=256,
    max_keys=50,
    max_key_length=128,
    key_chars=SAGEMAKER_CHARS,
    value_chars=SAGEMAKER_CHARS,
)
VERTEX_LIKE = Budget(
    where="Vertex labels",
    prefix="modelport-r-",
    encoding=Encoding.ZLIB_BASE32,
    max_value_length=63,
    max_keys=64,
    max_key_length=63,
    key_chars=LABEL_CHARS,
    value_chars=LABEL_CHARS,
)
REAL = [MLFLOW_LIKE, SAGEMAKER_LIKE, VERTEX_LIKE]
# Values of 8 characters: small records cross many value boundaries.
SMALL = [
    replace(budget, where=f"small {budget.where}", max_value_length=8, max_keys=None)
    for budget in REAL
]
LIMITED = [SAGEMAKER_LIKE, VERTEX_LIKE]
INCOMPRESSIBLE = random.Random(0).randbytes(16_000).hex()


def _name(budget: Budget) -> str:
    return budget.where


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=12,
)
records = st.dictionaries(st.text(), json_values, max_size=6)


def _assert_within(entries: dict[str, str], budget: Budget) -> None:
    assert 1 <= len(entries) <= (budget.max_keys or len(entries))
    for key, value in entries.items():
        assert len(key) <= (budget.max_key_length or len(key))
        assert 1 <= len(value) <= budget.max_value_length
        assert set(key) <= set(budget.key_chars or key)
        assert set(value) <= set(budget.value_chars or value)


# -- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("budget", REAL + SMALL, ids=_name)
@settings(max_examples=30, deadline=None)
@given(record=records)
def test_a_record_reads_back_exactly_whatever_the_entry_order(
    budget: Budget, record: dict[str, Any]
) -> None:
    entries = encode(record, budget)
    _assert_within(entries, budget)
    shuffled = dict(reversed(entries.items())) | {"team": "fraud", f"{budget.prefix}x": "y"}
    assert decode(shuffled, budget, dict) == record
    assert encode(record, budget) == entries  # deterministic: a retried write is the same


@pytest.mark.parametrize("budget", REAL + SMALL, ids=_name)
@pytest.mark.parametrize(
    "record",
    [
        {},
        {"": ""},
        {"text": 'ü, 中文, 🙂, e\u0301, \x00, \n\t, "quotes", {braces}, =\'+/@'},
        {"ключ": ["κλειδί", {"🔑": None}], "n": [-0.5, 1e300, 2**70, True]},
    ],
    ids=["empty", "empty-strings", "unicode-text", "unicode-keys"],
)
def test_edge_records_read_back_exactly(budget: Budget, record: dict[str, Any]) -> None:
    entries = encode(record, budget)
    _assert_within(entries, budget)
    assert decode(entries, budget, dict) == record


@settings(max_examples=30, deadline=None)
@given(record=records)
def test_vertex_like_entries_are_valid_labels(record: dict[str, Any]) -> None:
    for key, value in encode(record, VERTEX_LIKE).items():
        assert re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key)
        assert re.fullmatch(r"[a-z0-9_-]{0,63}", value)


@pytest.mark.parametrize("budget", REAL, ids=_name)
def test_metadata_without_a_record_reads_as_none(budget: Budget) -> None:
    others = {"team": "fraud", f"{budget.prefix}notes": "x"}
    assert decode(others, budget, dict) is None
    assert not holds_record(others, budget)
    assert holds_record(encode({}, budget), budget)


# -- the budget ------------------------------------------------------------------------


def test_a_json_record_exactly_at_the_limit_fits_and_one_character_more_does_not() -> None:
    budget = Budget(
        where="tags", prefix="r.", encoding=Encoding.JSON, max_value_length=10, max_keys=3
    )
    at_limit = {"a": "x" * 22}  # {"a":"xxx..."}: 30 characters, 3 full values
    assert list(encode(at_limit, budget).values()) == ['{"a":"xxxx', "x" * 10, 'xxxxxxxx"}']
    with pytest.raises(RecordTooLargeError) as caught:
        encode({"a": "x" * 23}, budget)
    assert (caught.value.field, caught.value.needed, caught.value.allowed) == ("a", 4, 3)


@pytest.mark.parametrize("budget", LIMITED, ids=_name)
def test_a_compressed_record_filling_every_key_fits_and_a_larger_one_does_not(
    budget: Budget,
) -> None:
    size = _largest_fitting(budget)
    assert len(encode(_blob(size), budget)) == budget.max_keys
    with pytest.raises(RecordTooLargeError) as caught:
        encode(_blob(size + 1), budget)
    assert caught.value.needed == (budget.max_keys or 0) + 1
    assert caught.value.field == "blob"  # the largest field, not the first
    assert budget.where in str(caught.value)
    assert "shorten blob" in str(caught.value)


def test_keys_that_would_outgrow_their_length_limit_are_over_budget() -> None:
    budget = Budget(
        where="tags", prefix="r", encoding=Encoding.JSON, max_value_length=1, max_key_length=2
    )
    assert len(encode({"a": 1}, budget)) == 7  # {"a":1}: r0 ... r6
    with pytest.raises(RecordTooLargeError) as caught:
        encode({"a": "xxxx"}, budget)  # 12 characters, numbers up to r11
    assert (caught.value.needed, caught.value.allowed) == (12, 10)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"encoding": Encoding.ZLIB_BASE64}, "values may not hold"),  # uppercase letters
        ({"encoding": Encoding.JSON}, "values may not hold"),  # any character
        ({"prefix": "Modelport-r-"}, "keys may not hold"),
        ({"max_key_length": 12}, "longer than 12"),
        ({"max_value_length": 0}, "allows no value"),
        ({"max_keys": 0}, "allows no value"),
    ],
)
def test_a_budget_that_cannot_hold_a_record_is_refused(
    change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        replace(VERTEX_LIKE, **change)
    assert "budget for Vertex labels" in str(caught.value)


def _blob(size: int) -> dict[str, str]:
    return {"a": "short", "blob": INCOMPRESSIBLE[:size]}


def _largest_fitting(budget: Budget) -> int:
    """The longest blob whose record fits ``budget`` (bisection: longer text never packs
    into fewer values)."""
    unlimited = replace(budget, max_keys=None)
    low, high = 0, len(INCOMPRESSIBLE) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if len(encode(_blob(middle), unlimited)) <= (budget.max_keys or 0):
            low = middle
        else:
            high = middle - 1
    return low


# -- corruption ------------------------------------------------------------------------

RECORD = {"metrics": {"auc": 0.91}, "params": {"depth": "8"}, "lineage": {"run": "r-1"}}


@pytest.mark.parametrize("budget", SMALL, ids=_name)
@settings(max_examples=30, deadline=None)
@given(record=records, data=st.data())
def test_losing_any_one_value_is_detected(
    budget: Budget, record: dict[str, Any], data: st.DataObject
) -> None:
    entries = encode(record, budget)
    assume(len(entries) >= 2)
    lost = data.draw(st.sampled_from(sorted(entries)))
    with pytest.raises(CorruptMetadataError):
        decode({k: v for k, v in entries.items() if k != lost}, budget, dict)


def _garble_first(entries: dict[str, str], budget: Budget) -> dict[str, str]:
    return entries | {budget.key(0): "z" * len(entries[budget.key(0)])}


def _stale_extra(entries: dict[str, str], budget: Budget) -> dict[str, str]:
    return entries | {budget.key(len(entries)): entries[budget.key(0)]}


def _gap(entries: dict[str, str], budget: Budget) -> dict[str, str]:
    return {k: v for k, v in entries.items() if k != budget.key(1)}


def _second_spelling(entries: dict[str, str], budget: Budget) -> dict[str, str]:
    return entries | {budget.key(0).replace(budget.prefix, budget.prefix + "0"): "z"}


def _not_an_object(entries: dict[str, str], budget: Budget) -> dict[str, str]:
    return {budget.key(0): budget.encoding.wrap("[1, 2]")}


@pytest.mark.parametrize("budget", SMALL, ids=_name)
@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [
        (_garble_first, "does not decode"),
        (_stale_extra, "does not decode"),
        (_gap, "lacks the numbers [1]"),
        (_second_spelling, "is not a key modelport writes"),
        (_not_an_object, "holds list, not a record"),
    ],
    ids=lambda case: getattr(case, "__name__", None),
)
def test_corrupt_entries_raise_one_error_naming_the_problem(
    budget: Budget, corrupt: Callable[[dict[str, str], Budget], dict[str, str]], problem: str
) -> None:
    entries = encode(RECORD, budget)
    assert len(entries) > 2
    with pytest.raises(CorruptMetadataError) as caught:
        decode(corrupt(entries, budget), budget, dict)
    assert problem in str(caught.value)


@pytest.mark.parametrize("budget", REAL, ids=_name)
def test_a_record_the_backend_cannot_build_is_corrupt_too(budget: Budget) -> None:
    entries = encode(RECORD, budget)

    def build(data: dict[str, Any]) -> float:
        return float(data["metrics"]["loss"])

    with pytest.raises(CorruptMetadataError, match="not a valid record"):
        decode(entries, budget, build)
