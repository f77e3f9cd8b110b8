"""The models compared, spanning the calibration taxonomy of Niculescu-Mizil & Caruana (2005).

Every model exposes ``score(X)``: its own "probability" of fraud as a practitioner would read it
(``predict_proba[:, 1]``, or ``sigmoid(margin)`` for the SVM, which has none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from casestudies.rng import stream, stream_seed


class SigmoidMarginSVC(ClassifierMixin, BaseEstimator):
    """A linear SVM whose naive "probability" is ``sigmoid(margin)``.

    The hinge loss does not estimate probabilities: squashing the margin through a sigmoid gives
    numbers in (0, 1) that look like probabilities but are not calibrated.
    """

    def __init__(self, C: float = 1.0, random_state: int | None = None):
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        self.model_ = make_pipeline(StandardScaler(),
                                    LinearSVC(C=self.C, random_state=self.random_state))
        self.model_.fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def decision_function(self, X):
        return self.model_.decision_function(X)

    def predict_proba(self, X):
        positive = 1 / (1 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - positive, positive])


@dataclass
class ModelSpec:
    """A model to train: its estimator and how its training data is prepared.

    Attributes
    ----------
    name : str
        Label in the report.
    estimator : estimator
        Unfitted scikit-learn classifier.
    undersample : bool
        Train on all frauds and as many randomly chosen genuine transactions (1:1).
    reweighted : bool
        ``class_weight="balanced"``: like undersampling, it changes the base rate the model sees.
    expected : str
        The calibration behaviour the literature predicts.
    """

    name: str
    estimator: object
    undersample: bool = False
    reweighted: bool = False
    expected: str = ""


def model_specs(random_state: int = 0, quick: bool = False) -> list[ModelSpec]:
    """The models of the study, in report order.

    Each randomised model draws from its own stream of ``random_state`` keyed by its name, so
    that adding or changing one model leaves the others' numbers as they were.
    """
    def seed(name: str) -> int:
        return stream_seed(random_state, "model", name)

    def logistic(**kw):
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, **kw))

    return [
        ModelSpec("logistic regression", logistic(),
                  expected="well calibrated: it maximises the likelihood"),
        ModelSpec("logistic, balanced weights", logistic(class_weight="balanced"),
                  reweighted=True, expected="scores inflated towards a 50 % base rate"),
        ModelSpec("logistic, 1:1 undersample", logistic(), undersample=True,
                  expected="scores inflated towards a 50 % base rate"),
        ModelSpec("Gaussian naive Bayes", GaussianNB(),
                  expected="over-confident: scores pushed to 0 and 1"),
        ModelSpec("random forest", RandomForestClassifier(
            n_estimators=50 if quick else 100, max_samples=0.2,
            n_jobs=1, random_state=seed("random forest")),
            expected="under-confident at the extremes, many exact zeros"),
        ModelSpec("gradient boosting", HistGradientBoostingClassifier(
            max_iter=80 if quick else 150, learning_rate=0.1, early_stopping=False,
            random_state=seed("gradient boosting")),
            expected="close to calibrated (log-loss boosting)"),
        ModelSpec("linear SVM, sigmoid(margin)", SigmoidMarginSVC(
            random_state=seed("linear SVM, sigmoid(margin)")),
                  expected="not a probability at all"),
    ]


def undersample(y: np.ndarray, random_state: int | np.random.Generator | None = 0
                ) -> tuple[np.ndarray, float]:
    """Rows of a 1:1 undersample (all positives, as many random negatives) and the share
    ``beta`` of negatives kept."""
    rng = np.random.default_rng(random_state)
    positives = np.flatnonzero(y == 1)
    negatives = np.flatnonzero(y == 0)
    kept = rng.choice(negatives, size=min(len(positives), len(negatives)), replace=False)
    return np.sort(np.concatenate([positives, kept])), len(kept) / len(negatives)


def fit_model(spec: ModelSpec, X: np.ndarray, y: np.ndarray, random_state: int = 0
              ) -> tuple[object, float]:
    """Fit a copy of ``spec.estimator``; return it and ``beta``, the factor by which the model's
    view of the negatives was thinned (1 when trained on the data as it is). An undersample draws
    from the stream of ``random_state`` named after the model."""
    estimator = clone(spec.estimator)
    if spec.undersample:
        rows, beta = undersample(y, stream(random_state, "undersample", spec.name))
        return estimator.fit(X[rows], y[rows]), beta
    estimator.fit(X, y)
    if spec.reweighted:
        # class_weight="balanced" weighs each class by n / (2 n_class): the same odds shift as
        # keeping a share n_pos / n_neg of the negatives.
        return estimator, float(np.sum(y == 1) / np.sum(y == 0))
    return estimator, 1.0


def tree_clip(model) -> float | None:
    """``1 / (2 T)`` for a forest of ``T`` trees, ``None`` for every other model.

    A forest's probability is the average of its trees' leaf frequencies, so scores come in
    steps of about ``1 / T`` and a transaction no tree flags scores exactly 0 (or 1). Half a
    tree's vote is the smallest probability the forest can mean: clipping there keeps log-odds
    (Platt, beta, temperature) and log loss finite without inventing a scale (``1e-6`` would put
    those transactions at log-odds -13.8, far from every other score, and let them decide which
    calibrator wins).
    """
    trees = getattr(model, "estimators_", None)
    if isinstance(model, RandomForestClassifier) and trees is not None:
        return 1 / (2 * len(trees))
    return None


def raw_score(model, X: np.ndarray) -> np.ndarray:
    """The model's probability of fraud exactly as ``predict_proba`` gives it."""
    return model.predict_proba(X)[:, 1]


def score(model, X: np.ndarray, clip: float | None = None) -> np.ndarray:
    """The model's probability of fraud as read off ``predict_proba``, clipped to
    ``[clip, 1 - clip]`` (``clip`` defaults to :func:`tree_clip`: forests only)."""
    p = raw_score(model, X)
    clip = tree_clip(model) if clip is None else clip
    return p if not clip else np.clip(p, clip, 1 - clip)
