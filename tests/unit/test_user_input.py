"""Models users build themselves reject bad values with a modelport error naming the field."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import modelport as mp


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: mp.Policy(gates={"production": {"f1": "high"}}), "Policy.gates"),
        (lambda: mp.Policy(exclusive_stages=frozenset({"Prod"})), "Policy.exclusive_stages"),
        (lambda: mp.RetryPolicy(attempts=0), "RetryPolicy.attempts"),
        (lambda: mp.RetryPolicy(deadline=-1), "RetryPolicy.deadline"),
        (lambda: mp.Lineage(datasets=[{"uri": 3}]), "Lineage.datasets.0"),
        (lambda: mp.Lineage(colour="red"), "Lineage.colour"),
        (lambda: mp.DatasetRef(), "DatasetRef.uri"),
        (lambda: mp.CIRun(provider=None), "CIRun.provider"),
    ],
)
def test_bad_values_raise_invalid_input_naming_the_field(
    build: Callable[[], object], field: str
) -> None:
    with pytest.raises(mp.InvalidInputError) as caught:
        build()
    assert caught.value.field == field
    assert field in str(caught.value)


def test_good_values_still_build_typed_models() -> None:
    lineage = mp.Lineage(run="r1", datasets=[mp.DatasetRef(uri="s3://d/train.parquet")])
    assert lineage.datasets[0].role == "training"
    assert (
        mp.Policy(gates={"production": {"f1": ">=0.8"}}).gates_for("production")[0].threshold == 0.8
    )
