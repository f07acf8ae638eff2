"""invitecls.dask on a real local cluster: two worker processes."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import invitecls

distributed = pytest.importorskip("dask.distributed")
dd = pytest.importorskip("dask.dataframe")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


# The graph holds the test's 2,000 notes (from_pandas) and the model once; dask warns above 10 MB.
@pytest.mark.slow  # seconds: the quick suite must stay under 2 minutes
@pytest.mark.filterwarnings("ignore:Sending large graph")
def test_results_equal_classify_many(client, corpus) -> None:
    from invitecls.dask import classify_dataframe

    frame = corpus.to_pandas().iloc[::7][["message", "mutual_connections"]].reset_index(drop=True)
    frame["mutual_connections"] = frame["mutual_connections"].astype("float64")
    lazy = classify_dataframe(dd.from_pandas(frame, npartitions=6))
    with distributed.get_task_stream(client) as stream:
        result = lazy.compute()
    expected = invitecls.classify_many(frame["message"], frame["mutual_connections"])
    assert list(result.index) == list(frame.index)
    assert list(result["label"]) == [p.label for p in expected]
    np.testing.assert_array_equal(result["p_spam"].to_numpy(), [p.probabilities["spam"] for p in expected])
    assert list(result["action"]) == [p.action for p in expected]
    assert list(result["reasons"]) == ["; ".join(p.reasons) for p in expected]
    # Both worker processes classified some of the partitions.
    workers = {task["worker"] for task in stream.data if "partition" in str(task["key"])}
    assert len(workers) == 2, workers


def test_model_is_one_task_shared_by_all_partitions() -> None:
    from invitecls.dask import classify_dataframe

    frame = dd.from_pandas(pd.DataFrame({"message": ["hi"] * 8}), npartitions=4)
    graph = dict(classify_dataframe(frame).__dask_graph__())
    model_keys = [k for k in graph if str(k[0] if isinstance(k, tuple) else k).startswith("CompiledModel-")]
    assert len(model_keys) == 1  # sent to each worker once, reused by every partition


def test_the_readme_example_writes_parquet(tmp_path, corpus) -> None:
    # The README's example, end to end: read Parquet, classify, write Parquet (typed columns).
    from invitecls.dask import classify_dataframe

    frame = corpus.to_pandas().iloc[::97][["message", "mutual_connections"]].reset_index(drop=True)
    frame["mutual_connections"] = frame["mutual_connections"].astype("float64")
    dd.from_pandas(frame, npartitions=3).to_parquet(tmp_path / "requests")

    notes = dd.read_parquet(tmp_path / "requests")
    verdicts = classify_dataframe(notes)
    verdicts.to_parquet(tmp_path / "verdicts")

    written = pd.read_parquet(tmp_path / "verdicts")
    expected = invitecls.classify_many(frame["message"], frame["mutual_connections"])
    assert list(written["label"]) == [p.label for p in expected]
    np.testing.assert_allclose(written["p_spam"].to_numpy(), [p.probabilities["spam"] for p in expected])
    templates = written["matched_template"]
    assert [t if isinstance(t, str) else None for t in templates] == [p.matched_template for p in expected]
    assert templates.isna().sum() == sum(p.matched_template is None for p in expected) > 0
    assert written["probability"].dtype == "float64" and written["label"].dtype != "float64"
