"""Model references: the grammar of SPEC section 3 and the errors for everything else."""

from __future__ import annotations

import pytest

from modelport.errors import InvalidReferenceError
from modelport.refs import ModelRef, RefKind, parse_ref


@pytest.mark.parametrize(
    ("text", "name", "kind", "value"),
    [
        ("fraud/3", "fraud", RefKind.VERSION, "3"),
        ("fraud/1.2.0", "fraud", RefKind.VERSION, "1.2.0"),
        ("fraud-detector_v2.1/10", "fraud-detector_v2.1", RefKind.VERSION, "10"),
        ("fraud@production", "fraud", RefKind.STAGE, "production"),
        ("fraud@staging", "fraud", RefKind.STAGE, "staging"),
        ("fraud@archived", "fraud", RefKind.STAGE, "archived"),
        ("fraud@development", "fraud", RefKind.STAGE, "development"),
        ("fraud@latest", "fraud", RefKind.LATEST, ""),
        ("fraud@champion", "fraud", RefKind.LABEL, "champion"),
        ("fraud@canary-2", "fraud", RefKind.LABEL, "canary-2"),
        ("9lives/1", "9lives", RefKind.VERSION, "1"),
    ],
)
def test_valid_references_parse(text: str, name: str, kind: RefKind, value: str) -> None:
    ref = parse_ref(text)
    assert (ref.name, ref.kind, ref.value) == (name, kind, value)
    assert str(ref) == text
    assert parse_ref(str(ref)) == ref


def test_a_parsed_reference_passes_through_unchanged() -> None:
    ref = ModelRef("fraud", RefKind.VERSION, "2")
    assert parse_ref(ref) is ref


def test_longest_valid_name_and_alias_are_accepted() -> None:
    name = "n" * 128
    alias = "a" * 31
    assert parse_ref(f"{name}@{alias}") == ModelRef(name, RefKind.LABEL, alias)


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("fraud", "names no version"),
        ("fraud/", "version ''"),
        ("fraud@", "not a valid stage or alias"),
        ("fraud@Production", "'Production'"),
        ("n" * 129 + "/1", "model name"),
        ("fraud@" + "a" * 32, "at most 31"),
        ("/1", "model name ''"),
    ],
)
def test_errors_say_what_is_wrong(text: str, mentions: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_ref(text, field="source_ref")
    assert mentions in str(caught.value)
    assert caught.value.field == "source_ref"


def test_errors_name_the_model_once_it_is_known() -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_ref("fraud/not valid")
    assert caught.value.model == "fraud"


def test_a_huge_reference_is_not_echoed_whole() -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_ref("x" * 10_000)
    assert len(str(caught.value)) < 500


@pytest.mark.parametrize("value", [None, 3, 1.5, b"fraud/1", ["fraud/1"], {"name": "fraud"}])
def test_non_strings_are_refused_with_their_type(value: object) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_ref(value)
    assert type(value).__name__ in str(caught.value)
    assert isinstance(caught.value, ValueError)
