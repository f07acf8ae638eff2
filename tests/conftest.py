"""Shared fixtures: the corpus, the shipped model, a small model trained in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

import invitecls

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def corpus() -> invitecls.LabeledData:
    return invitecls.load_corpus()


@pytest.fixture(scope="session")
def shipped() -> invitecls.InviteClassifier:
    return invitecls.default_model()


@pytest.fixture(scope="session")
def small_train(corpus: invitecls.LabeledData) -> invitecls.LabeledData:
    """A few hundred training notes, every kind and language, for quick fits."""
    rows = [i for i, split in enumerate(corpus.columns["split"]) if split == "train"][::12]
    return corpus.subset(rows)


@pytest.fixture(scope="session")
def small_model(small_train: invitecls.LabeledData) -> invitecls.InviteClassifier:
    return invitecls.InviteClassifier(cv=3).fit(small_train.X, small_train.labels, groups=small_train.groups)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The notebooks train and plot: they run with the slow tests, in CI.
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
