"""scikit-learn ``ExtraTrees{Classifier,Regressor}`` search space."""

from __future__ import annotations

from autometa.spaces._forest import ForestSpace


class ExtraTreesSpace(ForestSpace):
    """Extremely randomised trees (bootstrap off by default); same ranges as random forest."""

    family = "extra_trees"
    version = "extra_trees-1"
    bootstrap_default = False

    def estimator_class(self, task_type: str) -> type:
        """``ExtraTreesRegressor`` for regression, else the classifier."""
        from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

        if task_type == "regression":
            return ExtraTreesRegressor
        return ExtraTreesClassifier
