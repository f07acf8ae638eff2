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

__all__ = ["classify_dataframe", "predictions_frame"]


def predictions_frame(predictions: list[Prediction], classes: tuple[str, ...], index: Any = None) -> Any:
    """Predictions as a pandas DataFrame with typed columns, also when there are none.

    Columns: ``label`` (string), ``probability`` (float64), ``p_<class>`` for
    each class (float64), ``action`` (string, missing for a model of another
    task), ``template_similarity`` (float64), ``matched_template`` (string,
    missing when no template matched), ``reasons`` and ``signals`` (string,
    "; "-joined). The dtypes do not depend on the values, so an empty frame
    is the exact schema (dask's ``meta``, a Spark schema, a Parquet file).
    """
    import pandas as pd

    def text(values: list[Any]) -> Any:
        return pd.Series(values, dtype="string", index=index)

    def number(values: list[float]) -> Any:
        return pd.Series(values, dtype="float64", index=index)

    return pd.DataFrame(
        {
            "label": text([p.label for p in predictions]),
            "probability": number([p.probability for p in predictions]),
            **{f"p_{c}": number([p.probabilities[c] for p in predictions]) for c in classes},
            "action": text([p.action for p in predictions]),
            "template_similarity": number([p.template_similarity for p in predictions]),
            "matched_template": text([p.matched_template for p in predictions]),
            "reasons": text(["; ".join(p.reasons) for p in predictions]),
            "signals": text(["; ".join(p.signals) for p in predictions]),
        },
        index=index,
    )


def _partition(frame: Any, model: CompiledModel, message: str, mutual: str | None, reasons: bool) -> Any:
    counts = frame[mutual] if mutual is not None and mutual in frame.columns else None
    predictions = classify_many(frame[message], counts, model=model, reasons=reasons)
    return predictions_frame(predictions, model.classes, index=frame.index)


def classify_dataframe(
    frame: Any,
    *,
    message: str = "message",
    mutual_connections: str | None = "mutual_connections",
    model: ModelLike = None,
    reasons: bool = True,
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
    reasons : bool, default=True
        Explain each verdict (the ``reasons`` column; empty when False, which
        scores faster).

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
    return frame.map_partitions(_partition, shipped, message, mutual_connections, reasons, meta=meta)
