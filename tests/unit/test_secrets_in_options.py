"""Every option of every built-in backend's URL, given a value that carries credentials:
whether the URL is accepted or refused, no printed form shows them."""

from __future__ import annotations

import traceback
from collections.abc import Iterator

import pytest

import modelport as mp
from modelport.backends import BUILTIN, import_backend
from modelport.errors import ModelportError

SECRET = "Zq9-s3cr3t-Xy"
VALUES = [
    f"http://user:{SECRET}@127.0.0.1:9/p?sig={SECRET}",  # a URL-valued option
    f"s3://AKIA:{SECRET}@bucket/prefix",
    f"http%3A%2F%2Fu%3A{SECRET}%40127.0.0.1%3A9",  # the same, percent-encoded
    f"gs://bucket/p?X-Goog-Signature={SECRET}",  # a signed URL
]


def _cases() -> Iterator[tuple[str, str, str]]:
    for scheme, entry in sorted(BUILTIN.items()):
        options = import_backend(entry).options
        assert options is not None, f"{scheme}: its backend declares no options model"
        for name in sorted(options.model_fields):
            for value in VALUES:
                yield scheme, name, value


CASES = list(_cases())


def test_every_backend_declares_an_example_url_and_options() -> None:
    assert all(entry.example.startswith(f"{scheme}") for scheme, entry in BUILTIN.items())
    assert len({scheme for scheme, _, _ in CASES}) == len(BUILTIN)


@pytest.mark.parametrize(("scheme", "option", "value"), CASES)
def test_no_option_value_leaks_a_secret(scheme: str, option: str, value: str) -> None:
    example = BUILTIN[scheme].example
    url = f"{example}{'&' if '?' in example else '?'}{option}={value}"
    if option in example:  # an option the example sets already: replace it
        url = example.split("?")[0] + f"?{option}={value}"
    try:
        with mp.connect(url) as reg:
            shown = [str(reg.url), repr(reg), reg.url]
    except ModelportError as exc:
        shown = ["".join(traceback.format_exception(exc)), str(exc.url)]
    leaked = [text for text in shown if SECRET in text]
    assert leaked == []
