"""scikit-learn's own estimator checks on the LightGBM estimators (every check; none skipped).

The generic ``MetaClassifier("random_forest")`` passes them too (checked once by hand, see
docs/sklearn.md); it is left out here to keep the default test run short."""

from __future__ import annotations

import warnings

from sklearn.utils.estimator_checks import parametrize_with_checks

from autometa.sklearn import MetaLGBMClassifier, MetaLGBMRegressor


@parametrize_with_checks([MetaLGBMClassifier(), MetaLGBMRegressor()])
def test_scikit_learn_estimator_checks(estimator, check) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checks' small tables trigger typing notes
        check(estimator)
