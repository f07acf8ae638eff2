"""Shared fixtures: the corpus, the shipped model, a small model trained in seconds and saved once.

The helpers ``model_members`` and ``write_model_members`` open a model file
(a zip archive) and write one by hand, as someone forging one would; the
tests of model files import them from here.
"""

from __future__ import annotations

import zipfile
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
    return invitecls.InviteClassifier(cv=3).fit(
        small_train.X, small_train.labels, groups=small_train.groups, pitch=small_train.pitch()
    )


@pytest.fixture(scope="session")
def saved_small_model(tmp_path_factory: pytest.TempPathFactory, small_model: invitecls.InviteClassifier) -> bytes:
    """The bytes of ``small_model``'s file, saved once (saving compresses the estimator: most of a second)."""
    path = tmp_path_factory.mktemp("saved") / "model.joblib"
    small_model.save(path)
    return path.read_bytes()


@pytest.fixture
def saved(tmp_path: Path, saved_small_model: bytes) -> Path:
    """``small_model`` saved as ``model.joblib``, in a folder of the test's own."""
    path = tmp_path / "model.joblib"
    path.write_bytes(saved_small_model)
    return path


def model_members(path: Path) -> dict[str, bytes]:
    """The members of a model file, by name, in their order."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_model_members(path: Path, members: dict[str, bytes]) -> None:
    """Write ``members`` as a model file by hand, as someone forging one would (no hashes updated)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The notebooks train and plot: they run with the slow tests, in CI.
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
