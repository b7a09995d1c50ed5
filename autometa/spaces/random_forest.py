"""scikit-learn ``RandomForest{Classifier,Regressor}`` search space."""

from __future__ import annotations

from autometa.spaces._forest import ForestSpace


class RandomForestSpace(ForestSpace):
    """Random forest (bootstrap on by default); categoricals one-hot encoded, NaN imputed."""

    family = "random_forest"
    version = "random_forest-1"
    bootstrap_default = True

    def estimator_class(self, task_type: str) -> type:
        """``RandomForestRegressor`` for regression, else the classifier."""
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        if task_type == "regression":
            return RandomForestRegressor
        return RandomForestClassifier
