"""invitecls: tell a genuine LinkedIn connection request from a generic, spammy one.

>>> import invitecls
>>> invitecls.classify("Hi Anders, I'd like to connect with you on LinkedIn.", 0).label
'spam'

Importing the package does no work: submodules (and scikit-learn) load when a
name is first used, and the shipped model loads on the first classification.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Evaluation",
    "InviteClassifier",
    "InviteFeatures",
    "LabeledData",
    "ModelError",
    "ModelVersionWarning",
    "NormalizedNote",
    "Prediction",
    "Template",
    "Training",
    "TrainingReport",
    "__version__",
    "classify",
    "classify_many",
    "classify_stream",
    "default_model",
    "default_templates",
    "evaluate",
    "load_corpus",
    "load_model",
    "normalize",
    "read_labeled",
    "read_metadata",
    "save_model",
    "train",
    "train_with_report",
]

_WHERE = {
    "classify": "invitecls._api",
    "classify_many": "invitecls._api",
    "classify_stream": "invitecls._api",
    "Prediction": "invitecls._api",
    "default_model": "invitecls._api",
    "train": "invitecls._training",
    "train_with_report": "invitecls._training",
    "Training": "invitecls._training",
    "TrainingReport": "invitecls._training",
    "evaluate": "invitecls._evaluation",
    "Evaluation": "invitecls._evaluation",
    "load_corpus": "invitecls._evaluation",
    "load_model": "invitecls._persist",
    "save_model": "invitecls._persist",
    "read_metadata": "invitecls._persist",
    "ModelError": "invitecls._persist",
    "ModelVersionWarning": "invitecls._persist",
    "read_labeled": "invitecls._io",
    "LabeledData": "invitecls._io",
    "DataError": "invitecls._io",
    "InviteClassifier": "invitecls._model",
    "InviteFeatures": "invitecls._features",
    "normalize": "invitecls._normalize",
    "NormalizedNote": "invitecls._normalize",
    "Template": "invitecls._templates",
    "default_templates": "invitecls._templates",
}

if TYPE_CHECKING:
    from invitecls._api import Prediction, classify, classify_many, classify_stream, default_model
    from invitecls._evaluation import Evaluation, evaluate, load_corpus
    from invitecls._features import InviteFeatures
    from invitecls._io import DataError, LabeledData, read_labeled
    from invitecls._model import InviteClassifier
    from invitecls._normalize import NormalizedNote, normalize
    from invitecls._persist import ModelError, ModelVersionWarning, load_model, read_metadata, save_model
    from invitecls._templates import Template, default_templates
    from invitecls._training import Training, TrainingReport, train, train_with_report


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'invitecls' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
