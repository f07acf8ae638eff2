"""The examples in the docs run: every docstring example of the package, every Python block of the README.

The README's training block trains on top of the shipped corpus (about a
minute), so it runs with the slow tests; its dask block runs on local Parquet
folders in place of ``s3://`` (no network) and needs the ``dask`` extra.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
import shutil
from pathlib import Path

import pytest

import invitecls

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

MODULES = ["invitecls", *sorted(f"invitecls.{m.name}" for m in pkgutil.iter_modules(invitecls.__path__))]
#: The modules of the public API whose docstrings must hold examples.
WITH_EXAMPLES = {
    "invitecls",
    "invitecls._api",
    "invitecls._compare",
    "invitecls._features",
    "invitecls._model",
    "invitecls._normalize",
    "invitecls._persist",
    "invitecls._training",
}


@pytest.mark.parametrize("name", [m for m in MODULES if not m.endswith("__main__")])
def test_the_examples_in_the_docstrings_run(name: str) -> None:
    if name == "invitecls.dask":
        pytest.importorskip("dask.dataframe")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed (the output above says which)"
    assert result.attempted > 0 or name not in WITH_EXAMPLES


def python_blocks() -> list[tuple[int, str]]:
    """The README's ```python blocks: the line each starts on, and its code."""
    blocks: list[tuple[int, str]] = []
    start, body = 0, ""
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(keepends=True), start=1):
        if not start and line.strip() == "```python":
            start, body = number, ""
        elif start and line.strip() == "```":
            blocks.append((start, body))
            start = 0
        elif start:
            body += line
    return blocks


def _param(line: int, code: str) -> object:
    if "my_labels.csv" in code:
        return pytest.param(line, code, id=f"line {line}", marks=pytest.mark.slow)  # trains on top of the corpus
    return pytest.param(line, code, id=f"line {line}")


def test_the_readme_has_python_blocks() -> None:
    codes = [code for _, code in python_blocks()]
    assert len(codes) >= 4 and sum(">>> " in code for code in codes) == 1


@pytest.mark.parametrize(("line", "code"), [_param(line, code) for line, code in python_blocks()])
def test_the_readme_python_examples_run(line: int, code: str, tmp_path: Path, monkeypatch, corpus) -> None:
    monkeypatch.chdir(tmp_path)
    where = f"README.md, line {line}"
    if ">>> " in code:
        output = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(doctest.DocTestParser().get_doctest(code, {}, where, str(README), line), out=output.write)
        assert runner.failures == 0 and runner.tries > 0, output.getvalue()
        return
    if "s3://" in code:
        dd = pytest.importorskip("dask.dataframe")
        frame = corpus.to_pandas().iloc[::500][["message", "mutual_connections"]].reset_index(drop=True)
        frame["mutual_connections"] = frame["mutual_connections"].astype("float64")
        dd.from_pandas(frame, npartitions=2).to_parquet(tmp_path / "requests")
        code = code.replace("s3://bucket/", f"{tmp_path.as_posix()}/")
    if "my_labels.csv" in code:
        shutil.copy(ROOT / "data" / "example_my_labels.csv", tmp_path / "my_labels.csv")
        test = corpus.subset([i for i, split in enumerate(corpus.columns["split"]) if split == "test"][::20])
        test.to_pandas()[["message", "mutual_connections", "label"]].to_csv(tmp_path / "held_out.csv", index=False)
    namespace = {"__name__": "readme", "invitecls": invitecls}
    exec(compile(code, where, "exec"), namespace)
    if "verdicts" in namespace:
        assert any((tmp_path / "verdicts").iterdir())
    if "trained" in namespace:
        assert (tmp_path / "my_model.joblib").is_file()
        assert invitecls.read_metadata("my_model.joblib")["report"]["sentence"] == namespace["trained"].report.sentence
