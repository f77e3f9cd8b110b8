"""Post-hoc calibrators: maps from a frozen model's score ``p`` to a calibrated probability.

Each is fitted on a calibration block the model never saw (``fit(p, y)``) and applied with
``predict(p)``. All work on the model's probability ``p``, so any classifier can be calibrated
the same way. The log-odds calibrators take ``clip``: scores are clipped to
``[clip, 1 - clip]`` before their logarithm is taken (a forest's exact zeros would otherwise
become log-odds of minus infinity); the default :data:`LOGIT_CLIP` suits models that never
output exact zeros, and the pipeline passes half a tree's vote for a forest
(:func:`~casestudies.calibration.models.tree_clip`).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from sklearn.isotonic import IsotonicRegression

from casestudies.calibration.metrics import cox_calibration, logistic_fit, logit

LOGIT_CLIP = 1e-6


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp overflows to inf for log-odds below about -709, and 1 / inf is the right limit, 0.
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))


class _LogOdds:
    """Shared ``clip`` of the calibrators that work on logarithms of the score."""

    def __init__(self, clip: float | None = None):
        self.clip = LOGIT_CLIP if clip is None else float(clip)

    def _z(self, p: np.ndarray) -> np.ndarray:
        return logit(p, self.clip)


class PlattCalibrator(_LogOdds):
    """Platt scaling on the log-odds: ``q = sigmoid(a logit(p) + b)`` (Platt 1999).

    Fitting on ``logit(p)`` rather than on ``p`` makes the identity map reachable
    (``a = 1, b = 0``), so an already calibrated model is left alone; scikit-learn's
    ``method="sigmoid"`` fits on ``p`` itself for models without ``decision_function``.
    """

    def fit(self, p: np.ndarray, y: np.ndarray) -> PlattCalibrator:
        # The same likelihood as Cox's calibration regression of y on logit(p).
        self.intercept_, self.slope_ = cox_calibration(y, p, self.clip)
        return self

    def predict(self, p: np.ndarray) -> np.ndarray:
        return _sigmoid(self.slope_ * self._z(p) + self.intercept_)


class ClippedIsotonicCalibrator:
    """Isotonic regression (Zadrozny & Elkan 2002), clipped to ``[eps, 1 - eps]``.

    The isotonic step function gives exactly 0 to its lowest block when that block holds no
    fraud: such a transaction could never be blocked, whatever its amount, and one fraud there
    makes the log loss infinite. ``eps = 1 / (2 n)`` (half an event among the ``n`` calibration
    rows) keeps it finite and blockable.
    """

    def __init__(self, clip: float | None = None):
        self.clip = clip  # unused: isotonic regression takes no logarithm of the score

    def fit(self, p: np.ndarray, y: np.ndarray) -> ClippedIsotonicCalibrator:
        self.eps_ = 1 / (2 * len(y))
        self.model_ = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(p, y)
        self.n_steps_ = len(np.unique(self.model_.predict(p)))
        return self

    def predict(self, p: np.ndarray) -> np.ndarray:
        return np.clip(self.model_.predict(p), self.eps_, 1 - self.eps_)


class BetaCalibrator(_LogOdds):
    """Beta calibration (Kull, Silva Filho & Flach 2017):
    ``q = sigmoid(a ln p - b ln(1 - p) + c)``, a logistic regression on the two features
    ``ln p`` and ``-ln(1 - p)``.

    It contains the identity (``a = b = 1, c = 0``) and Platt on the log-odds (``a = b``), and
    can bend differently near 0 and near 1. A negative ``a`` or ``b`` would make the map
    non-monotone; the model is then refitted on the feature with the larger coefficient only,
    as the authors do.
    """

    def fit(self, p: np.ndarray, y: np.ndarray) -> BetaCalibrator:
        features = self._features(p)
        keep = [0, 1]
        for _ in range(2):
            design = np.column_stack([features[:, keep], np.ones(len(features))])
            coef = logistic_fit(design, y)
            if np.all(coef[:-1] >= 0) or len(keep) == 1:
                break
            keep = [keep[int(np.argmax(coef[:-1]))]]
        self.a_, self.b_ = 0.0, 0.0
        for k, c in zip(keep, coef[:-1], strict=True):
            if k == 0:
                self.a_ = float(c)
            else:
                self.b_ = float(c)
        self.c_ = float(coef[-1])
        return self

    def _features(self, p: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(p, dtype=np.float64), self.clip, 1 - self.clip)
        return np.column_stack([np.log(p), -np.log1p(-p)])

    def predict(self, p: np.ndarray) -> np.ndarray:
        features = self._features(p)
        return _sigmoid(self.a_ * features[:, 0] + self.b_ * features[:, 1] + self.c_)


class TemperatureCalibrator(_LogOdds):
    """Temperature scaling (Guo et al. 2017): ``q = sigmoid(logit(p) / T)``, ``T`` minimising
    the log loss.

    One parameter and no intercept: it can soften or sharpen the scores but cannot move them
    all up or down, so it cannot undo a change of base rate (such as undersampling).
    """

    def fit(self, p: np.ndarray, y: np.ndarray) -> TemperatureCalibrator:
        z = self._z(p)
        y = np.asarray(y, dtype=np.float64)

        def loss(log_t: float) -> float:
            q = np.clip(_sigmoid(z / np.exp(log_t)), 1e-12, 1 - 1e-12)
            return -float(np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))

        fit = optimize.minimize_scalar(loss, bounds=(-5, 5), method="bounded")
        self.temperature_ = float(np.exp(fit.x))
        return self

    def predict(self, p: np.ndarray) -> np.ndarray:
        return _sigmoid(self._z(p) / self.temperature_)


def undersampling_correction(p_s: np.ndarray, beta: float) -> np.ndarray:
    """Undo the bias of training on undersampled negatives (Dal Pozzolo et al. 2015).

    If each genuine transaction was kept with probability ``beta`` (all frauds kept), the model
    learnt ``p_s = p / (p + beta (1 - p))``; inverting gives
    ``p = beta p_s / (beta p_s - p_s + 1)``. Nothing is fitted: ``beta`` is known.
    """
    p_s = np.asarray(p_s, dtype=np.float64)
    return beta * p_s / (beta * p_s - p_s + 1)


CALIBRATORS = {
    "Platt (logit)": PlattCalibrator,
    "isotonic (clipped)": ClippedIsotonicCalibrator,
    "beta": BetaCalibrator,
    "temperature": TemperatureCalibrator,
}
