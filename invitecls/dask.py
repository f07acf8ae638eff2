"""Classify notes at platform scale with dask (``pip install "invitecls[dask]"``).

>>> import dask.dataframe as dd
>>> from invitecls.dask import classify_dataframe
>>> notes = dd.read_parquet("requests/")  # doctest: +SKIP
>>> verdicts = classify_dataframe(notes).compute()  # doctest: +SKIP

Each partition is classified with ``classify_many`` (vectorised, one chunk at
a time). The model travels as one ``dask.delayed`` object: the scheduler sends
it to each worker once, and every partition on that worker reuses it. The
compiled model is plain numpy arrays, so no worker needs scikit-learn.

The same pattern works on Spark: in ``DataFrame.mapInPandas``, pass the path
of a saved model to ``classify_many`` (each process loads a path once and
reuses it) and call ``predictions_frame`` on each pandas batch. This module
imports dask only inside ``classify_dataframe``.
"""

from __future__ import annotations

from typing import Any

from invitecls._api import ModelLike, Prediction, _resolve, classify_many
from invitecls._compiled import CompiledModel

__all__ = ["OUTPUT_COLUMNS", "classify_dataframe", "predictions_frame"]

#: Output columns, as the fields of ``Prediction`` (probabilities as ``p_<class>``).
OUTPUT_COLUMNS = (
    "label",
    "probability",
    "action",
    "template_similarity",
    "matched_template",
    "reasons",
    "signals",
)


def predictions_frame(predictions: list[Prediction], classes: tuple[str, ...], index: Any = None) -> Any:
    """Predictions as a pandas DataFrame: one column per field, ``p_<class>`` per class."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "label": [p.label for p in predictions],
            "probability": [p.probability for p in predictions],
            **{f"p_{c}": [p.probabilities[c] for p in predictions] for c in classes},
            "action": [p.action for p in predictions],
            "template_similarity": [p.template_similarity for p in predictions],
            "matched_template": [p.matched_template for p in predictions],
            "reasons": ["; ".join(p.reasons) for p in predictions],
            "signals": ["; ".join(p.signals) for p in predictions],
        },
        index=index,
    )
    return frame


def _partition(frame: Any, model: CompiledModel, message: str, mutual: str | None) -> Any:
    counts = frame[mutual] if mutual is not None and mutual in frame.columns else None
    predictions = classify_many(frame[message], counts, model=model)
    return predictions_frame(predictions, model.classes, index=frame.index)


def classify_dataframe(
    frame: Any,
    *,
    message: str = "message",
    mutual_connections: str | None = "mutual_connections",
    model: ModelLike = None,
) -> Any:
    """Classify every note of a dask DataFrame.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
        With a column of notes and, optionally, of shared-connection counts.
    message, mutual_connections : str
        The column names (a missing count column means "unknown").
    model : InviteClassifier, path or None
        None uses the shipped model.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; the columns of ``predictions_frame``, with the index of ``frame``.
    """
    import dask
    import pandas as pd

    compiled = _resolve(model)
    meta = predictions_frame([], compiled.classes, index=pd.Index([], dtype=frame.index.dtype))
    shipped = dask.delayed(compiled, pure=True, traverse=False)
    return frame.map_partitions(_partition, shipped, message, mutual_connections, meta=meta)
