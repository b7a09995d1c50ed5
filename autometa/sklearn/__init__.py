"""scikit-learn estimators that choose their own hyperparameters from the knowledge base.

>>> model = MetaLGBMClassifier().fit(X_train, y_train)  # doctest: +SKIP
>>> model.predict(X_new), model.best_params_  # doctest: +SKIP
"""

from __future__ import annotations

from autometa.sklearn.estimators import (
    MetaClassifier,
    MetaLGBMClassifier,
    MetaLGBMRegressor,
    MetaRegressor,
)
from autometa.sklearn.search import MetaSearchCV

__all__ = [
    "MetaClassifier",
    "MetaLGBMClassifier",
    "MetaLGBMRegressor",
    "MetaRegressor",
    "MetaSearchCV",
]
