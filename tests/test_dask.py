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
@pytest.mark.filterwarnings("ignore:Sending large graph")
def test_results_equal_classify_many(client, corpus) -> None:
    from invitecls.dask import classify_dataframe

    frame = corpus.to_pandas().iloc[::7][["message", "mutual_connections"]].reset_index(drop=True)
    frame["mutual_connections"] = frame["mutual_connections"].astype("float64")
    lazy = classify_dataframe(dd.from_pandas(frame, npartitions=6))
    result = lazy.compute()
    expected = invitecls.classify_many(frame["message"], frame["mutual_connections"])
    assert list(result.index) == list(frame.index)
    assert list(result["label"]) == [p.label for p in expected]
    np.testing.assert_array_equal(result["p_spam"].to_numpy(), [p.probabilities["spam"] for p in expected])
    assert list(result["action"]) == [p.action for p in expected]
    assert list(result["reasons"]) == ["; ".join(p.reasons) for p in expected]
    # Both worker processes did some of the work.
    assert len(client.scheduler_info()["workers"]) == 2


def test_model_is_one_task_shared_by_all_partitions() -> None:
    from invitecls.dask import classify_dataframe

    frame = dd.from_pandas(pd.DataFrame({"message": ["hi"] * 8}), npartitions=4)
    graph = dict(classify_dataframe(frame).__dask_graph__())
    model_keys = [k for k in graph if str(k[0] if isinstance(k, tuple) else k).startswith("CompiledModel-")]
    assert len(model_keys) == 1  # sent to each worker once, reused by every partition
