"""The LSTM forecaster and five ways to give it intervals (PyTorch, CPU, deterministic).

The network sees the series after the same differencing ARIMA chose (an LSTM cannot extrapolate a
trend it never saw in training), standardised with training statistics. Four small networks are
trained once, on the data before the first calibration origin, and then applied at every origin:

* a **sequence** LSTM trained by MSE to predict the next value, used recursively (its own
  predictions are fed back) — the point forecaster of the question; with resampled one-step
  residuals it also gives (e) **residual-bootstrap** paths;
* the same architecture with a **Gaussian head** (mean and log-variance) trained by negative
  log-likelihood, sampled recursively: (a) the DeepAR idea;
* a **direct** LSTM mapping the input window to all H future values at once, trained by MSE with
  dropout before its output layer: the direct point forecast, (c) **MC dropout** when dropout is
  kept on at prediction time, and the centre of (d) **split-conformal** intervals and of their
  **adaptive** variant (d'), which feeds test errors back once they are observed;
* a direct LSTM with **quantile heads** for every horizon, trained by pinball loss: (b);
* further Gaussian-head networks from other seeds, which with the first form a **deep
  ensemble** (f): a mixture of the members' sampled paths, each with its own noise model.

MC dropout is also given its missing noise term, (c'): the dropout spread of the mean plus the
held-out residual variance of the direct network at the calibration origins.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from scipy import stats
from torch import nn

from casestudies.forecasting.metrics import (
    MethodForecast,
    adaptive_conformal,
    back_transformed_band,
    back_transformed_gaussian,
    conformal_quantile,
    crps_gaussian,
    crps_samples,
    sample_intervals,
)
from casestudies.progress import progress
from casestudies.rng import stream_seed

# Stacked LSTM layers in every network: one is enough for a univariate series this size.
LAYERS = 1
LEARNING_RATE = 5e-3
BATCH_SIZE = 32
VALIDATION_SHARE = 0.2
# Step of the adaptive-conformal level update: larger than Gibbs & Candès' 0.005 because a
# backtest feeds back only a few dozen outcomes per horizon.
ADAPTIVE_STEP = 0.02
# How each LSTM interval method gets its spread: the report names the recommended method's way.
APPROACH = {"gaussian": "simulation", "bootstrap": "simulation", "ensemble": "simulation",
            "dropout_noise": "noise added", "conformal": "calibration",
            "adaptive": "calibration", "quantile": "quantiles", "dropout": "mean only"}
# Members of the deep ensemble (Lakshminarayanan et al. 2017 use five): each a Gaussian-head
# network from its own seed; the first is the network of method (a).
ENSEMBLE_MEMBERS = 5


@contextmanager
def deterministic_torch(seed: int):
    """Seeded, single-threaded, deterministic PyTorch for the duration of the block.

    One thread makes float reductions run in a fixed order, so that the same seed gives the same
    weights bit for bit; the previous settings are restored afterwards.
    """
    threads = torch.get_num_threads()
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(was_deterministic)


class SequenceLSTM(nn.Module):
    """One-step-ahead LSTM: at every position, the next value (``outputs=1``) or the mean and
    log-variance of its normal distribution (``outputs=2``)."""

    def __init__(self, hidden: int, outputs: int):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, num_layers=LAYERS, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor, state=None):
        out, state = self.lstm(x, state)
        return self.head(out), state


class DirectLSTM(nn.Module):
    """Window-to-horizon LSTM: the last hidden state, through dropout, to ``outputs`` values."""

    def __init__(self, hidden: int, outputs: int, dropout: float):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, num_layers=LAYERS, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(self.dropout(out[:, -1]))


def gaussian_nll(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood (without the constant) of ``target`` under
    :math:`N(\\mu, e^{s})` with ``output[..., 0] = mu`` and ``output[..., 1] = s``."""
    mean, log_var = output[..., 0], output[..., 1]
    return 0.5 * (log_var + (target - mean) ** 2 / torch.exp(log_var)).mean()


def pinball(output: torch.Tensor, target: torch.Tensor, taus: torch.Tensor) -> torch.Tensor:
    """Mean pinball loss of quantile predictions ``output[..., k]`` at levels ``taus[k]``."""
    diff = target[..., None] - output
    return torch.maximum(taus * diff, (taus - 1) * diff).mean()


@dataclass
class TrainingLog:
    """How one network trained: losses per epoch, how many epochs ran, and the epoch kept (the
    best validation loss, ``best_validation_loss``)."""

    name: str
    train_loss: list[float]
    validation_loss: list[float]
    best_epoch: int
    windows: int
    seconds: float
    epochs_run: int
    best_validation_loss: float


def train(model: nn.Module, loss_fn, inputs: np.ndarray, targets: np.ndarray, validation: tuple,
          max_epochs: int, patience: int, name: str, generator: torch.Generator) -> TrainingLog:
    """Adam on mini-batches with early stopping on the validation loss; keeps the best weights."""
    started = time.perf_counter()
    x, y = torch.as_tensor(inputs), torch.as_tensor(targets)
    x_val, y_val = (torch.as_tensor(a) for a in validation)
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    best, best_epoch, best_state = np.inf, 0, None
    train_losses, validation_losses = [], []
    for epoch in progress(range(max_epochs), desc=f"LSTM {name} epochs"):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            optimiser.zero_grad()
            loss = loss_fn(model, x[batch], y[batch])
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        model.eval()
        with torch.no_grad():
            validation_loss = float(loss_fn(model, x_val, y_val))
        train_losses.append(total / len(x))
        validation_losses.append(validation_loss)
        if validation_loss < best:
            best, best_epoch = validation_loss, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return TrainingLog(name=name, train_loss=train_losses, validation_loss=validation_losses,
                       best_epoch=best_epoch + 1, windows=len(x),
                       seconds=time.perf_counter() - started, epochs_run=len(train_losses),
                       best_validation_loss=float(best))


def _thin(starts: np.ndarray, most: int) -> np.ndarray:
    """Every k-th element, with k the smallest stride leaving at most ``most``."""
    return starts[::max(1, int(np.ceil(len(starts) / max(most, 1))))]


def _split(starts: np.ndarray, max_windows: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-ordered split of window starts: training windows (at most ``max_windows``) and,
    after them, validation windows (at most a quarter as many), so that validation targets
    come later than training ones."""
    cut = int(len(starts) * (1 - VALIDATION_SHARE))
    return _thin(starts[:cut], max_windows), _thin(starts[cut:], max_windows // 4)


@dataclass
class LstmRun:
    """Every LSTM forecast at the test origins, and how the networks were trained.

    ``calibration_point`` holds the direct network's forecasts at the calibration origins
    (origins × H), whose errors give the conformal half-widths.
    """

    methods: list[MethodForecast]
    window: int
    logs: list[TrainingLog]
    residual_sd: float
    conformal_halfwidth: dict[float, np.ndarray]
    adaptive_updates: np.ndarray
    seconds: float
    calibration_point: np.ndarray
    calibration_scores: np.ndarray
    test_scores: np.ndarray
    adaptive_halfwidth: dict[float, np.ndarray]
    residual_variance: np.ndarray


class SeriesTransform:
    """Differencing (d = 0 or 1) and standardisation with training statistics.

    ``z[t]`` is the standardised value (d = 0) or change ``y[t] - y[t-1]`` (d = 1), aligned with
    ``y`` (``z[0]`` undefined when d = 1). Direct targets are the level (d = 0) or the change
    since the origin (d = 1); :meth:`fit_direct_scaling` standardises them per horizon.
    """

    def __init__(self, values: np.ndarray, d: int, train_end: int):
        self.values, self.d = values, d
        x = values.astype(np.float64).copy()
        if d == 1:
            x[1:] = np.diff(values)
            x[0] = np.nan
        # First position with a defined z.
        self.first = d
        self.mean = float(np.mean(x[d:train_end]))
        self.sd = float(np.std(x[d:train_end]))
        self.z = ((x - self.mean) / self.sd).astype(np.float32)
        self.centre: np.ndarray | None = None
        self.spread: np.ndarray | None = None

    def direct_targets(self, origins: np.ndarray, horizon: int) -> np.ndarray:
        """What a direct network predicts from origin o: ``y[o:o+H]`` (d = 0) or
        ``y[o:o+H] - y[o-1]`` (d = 1), before standardisation."""
        future = self.values[origins[:, None] + np.arange(horizon)[None, :]]
        if self.d == 1:
            future = future - self.values[origins - 1][:, None]
        return future

    def fit_direct_scaling(self, origins: np.ndarray, horizon: int) -> None:
        """Per-horizon mean and standard deviation of the direct targets of ``origins`` (the
        training origins), used to standardise targets and to map outputs back."""
        raw = self.direct_targets(origins, horizon)
        # The small constant keeps a constant target (a degenerate series) finite.
        self.centre, self.spread = raw.mean(axis=0), raw.std(axis=0) + 1e-8

    def windows(self, origins: np.ndarray, window: int) -> np.ndarray:
        """Input windows ``z[o-L:o]`` of every origin, shaped (origins, L, 1)."""
        return self.z[origins[:, None] + np.arange(-window, 0)[None, :]][..., None]

    def paths_to_levels(self, z_paths: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Standardised one-step paths (origins × H × paths) back to levels."""
        x = z_paths * self.sd + self.mean
        if self.d == 1:
            return self.values[origins - 1][:, None, None] + np.cumsum(x, axis=1)
        return x

    def direct_to_levels(self, outputs: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Standardised direct outputs (origins × passes × H × k) back to levels."""
        levels = (outputs * self.spread[None, None, :, None]
                  + self.centre[None, None, :, None])
        if self.d == 1:
            levels = levels + self.values[origins - 1][:, None, None, None]
        return levels


def _recursive_paths(model: SequenceLSTM, windows: np.ndarray, horizon: int, repeats: int,
                     noise) -> np.ndarray:
    """Run ``model`` recursively from each window, ``repeats`` paths each, feeding back the
    prediction plus ``noise(output)`` (zero for the point forecast). Returns
    (origins, horizon, repeats) standardised values."""
    n = len(windows)
    with torch.no_grad():
        x = torch.as_tensor(np.repeat(windows, repeats, axis=0))
        output, state = model(x)
        last = output[:, -1]
        steps = []
        for _ in range(horizon):
            value = last[:, 0] + noise(last)
            steps.append(value)
            output, state = model(value[:, None, None], state)
            last = output[:, -1]
        paths = torch.stack(steps, dim=1).numpy()
    return paths.reshape(n, repeats, horizon).transpose(0, 2, 1)


# --- windowing ------------------------------------------------------------------------------

def sequence_windows(z: np.ndarray, starts: np.ndarray, window: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs of the sequence networks: inputs ``z[s:s+L]`` and one-step targets
    ``z[s+1:s+L+1]`` (each position predicts the next), shaped (n, L, 1) and (n, L)."""
    index = starts[:, None] + np.arange(window + 1)[None, :]
    block = z[index]
    return block[:, :-1, None], block[:, 1:]


def direct_windows(transform: SeriesTransform, origins: np.ndarray, window: int, horizon: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs of the direct networks: inputs ``z[o-L:o]`` and the H standardised
    direct targets of each origin o (needs :meth:`SeriesTransform.fit_direct_scaling`)."""
    targets = (transform.direct_targets(origins, horizon) - transform.centre) / transform.spread
    return transform.windows(origins, window), targets.astype(np.float32)


def training_starts(transform: SeriesTransform, train_end: int, window: int, horizon: int,
                    max_windows: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Training and validation positions of both kinds of network, all inside the training
    stretch: ``"sequence"`` window starts s (targets up to ``z[s+L]``) and ``"direct"`` origins
    o (targets up to ``y[o+H-1]``), each split by :func:`_split`."""
    starts = np.arange(transform.first, train_end - window)
    origins = np.arange(transform.first + window, train_end - horizon + 1)
    return {"sequence": _split(starts, max_windows), "direct": _split(origins, max_windows)}


# --- losses ---------------------------------------------------------------------------------

def sequence_mse(model: SequenceLSTM, x: torch.Tensor, y: torch.Tensor, warm: int
                 ) -> torch.Tensor:
    """MSE of the one-step predictions, skipping the first ``warm`` positions of each window
    (too little history to predict from)."""
    return ((model(x)[0][:, warm:, 0] - y[:, warm:]) ** 2).mean()


def sequence_nll(model: SequenceLSTM, x: torch.Tensor, y: torch.Tensor, warm: int
                 ) -> torch.Tensor:
    """Gaussian negative log-likelihood of the one-step predictions after ``warm``."""
    return gaussian_nll(model(x)[0][:, warm:], y[:, warm:])


def direct_mse(model: DirectLSTM, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MSE over all H outputs of a direct network."""
    return ((model(x) - y) ** 2).mean()


def direct_pinball(model: DirectLSTM, x: torch.Tensor, y: torch.Tensor, taus: torch.Tensor
                   ) -> torch.Tensor:
    """Pinball loss of a quantile network whose outputs are H × len(taus) quantiles."""
    return pinball(model(x).reshape(len(x), y.shape[1], len(taus)), y, taus)


# --- training -------------------------------------------------------------------------------

def interval_taus(levels: tuple[float, ...]) -> np.ndarray:
    """Quantile levels the quantile heads learn: both ends of every central interval and the
    median, sorted."""
    alphas = [1 - level for level in levels]
    return np.array(sorted({a / 2 for a in alphas} | {1 - a / 2 for a in alphas} | {0.5}))


@dataclass
class Networks:
    """The four trained networks and their training logs."""

    recursive: SequenceLSTM
    gaussian: SequenceLSTM
    direct: DirectLSTM
    quantile: DirectLSTM
    logs: list[TrainingLog]
    members: list[SequenceLSTM]


def train_networks(transform: SeriesTransform, train_end: int, window: int, horizon: int,
                   taus: np.ndarray, hidden: int, dropout: float, max_epochs: int, patience: int,
                   max_windows: int, seed: int) -> Networks:
    """Train the four networks on the training stretch, each from its own random streams.

    Each network's initial weights and batch order come from streams named after it
    (``stream_seed(seed, name, "weights")``, ``"batches"``), so that adding or changing one
    network leaves the others' numbers unchanged. Also fits the transform's direct scaling.
    """
    positions = training_starts(transform, train_end, window, horizon, max_windows)
    seq_fit, seq_held = positions["sequence"]
    seq_train, seq_validation = (sequence_windows(transform.z, seq_fit, window),
                                 sequence_windows(transform.z, seq_held, window))
    direct_fit, direct_held = positions["direct"]
    transform.fit_direct_scaling(direct_fit, horizon)
    dir_train, dir_validation = (direct_windows(transform, direct_fit, window, horizon),
                                 direct_windows(transform, direct_held, window, horizon))
    warm = window // 4  # positions with too little history are not scored
    taus_t = torch.as_tensor(taus, dtype=torch.float32)
    specs = {
        "recursive": (lambda: SequenceLSTM(hidden, 1), partial(sequence_mse, warm=warm),
                      seq_train, seq_validation, "recursive (MSE)"),
        "gaussian": (lambda: SequenceLSTM(hidden, 2), partial(sequence_nll, warm=warm),
                     seq_train, seq_validation, "Gaussian head (NLL)"),
        "direct": (lambda: DirectLSTM(hidden, horizon, dropout), direct_mse,
                   dir_train, dir_validation, "direct (MSE)"),
        "quantile": (lambda: DirectLSTM(hidden, horizon * len(taus), 0.0),
                     partial(direct_pinball, taus=taus_t), dir_train, dir_validation,
                     "quantile heads (pinball)"),
    }
    # Further members of the deep ensemble: the Gaussian head again, from other seeds.
    for member in range(1, ENSEMBLE_MEMBERS):
        specs[f"gaussian_{member}"] = (lambda: SequenceLSTM(hidden, 2),
                                       partial(sequence_nll, warm=warm), seq_train,
                                       seq_validation, f"ensemble member {member + 1} (NLL)")
    models, logs = {}, []
    for key, (build, loss, (x, y), validation, name) in specs.items():
        torch.manual_seed(stream_seed(seed, key, "weights"))
        model = build()
        batches = torch.Generator().manual_seed(stream_seed(seed, key, "batches"))
        logs.append(train(model, loss, x, y, validation, max_epochs, patience, name, batches))
        models[key] = model
    members = [models["gaussian"]] + [models.pop(f"gaussian_{m}")
                                      for m in range(1, ENSEMBLE_MEMBERS)]
    return Networks(logs=logs, members=members, **models)


# --- forecasts ------------------------------------------------------------------------------

def direct_forecast(model: DirectLSTM, transform: SeriesTransform, origins: np.ndarray,
                    window: int, passes: int = 1) -> np.ndarray:
    """Outputs of a direct network at ``origins`` in levels, shaped (origins, passes, H, k).

    With ``passes > 1`` and the model in training mode, each pass draws new dropout masks.
    """
    horizon = len(transform.centre)
    x = torch.as_tensor(np.repeat(transform.windows(origins, window), passes, axis=0))
    with torch.no_grad():
        out = model(x).numpy().reshape(len(origins), passes, horizon, -1)
    return transform.direct_to_levels(out, origins)


def recursive_point_forecast(model: SequenceLSTM, transform: SeriesTransform,
                             origins: np.ndarray, window: int, horizon: int) -> np.ndarray:
    """The recursive network's point path (its mean fed back), in levels (origins × H)."""
    z = _recursive_paths(model, transform.windows(origins, window), horizon, 1,
                         lambda last: 0.0)
    return transform.paths_to_levels(z, origins)[..., 0]


def gaussian_head_paths(model: SequenceLSTM, transform: SeriesTransform, origins: np.ndarray,
                        window: int, horizon: int, paths: int, seed: int) -> np.ndarray:
    """(a) Paths of the Gaussian-head network: at each step a draw from N(mu, sigma^2) is fed
    back. Levels, shaped (origins, H, paths)."""
    generator = torch.Generator().manual_seed(seed)

    def gaussian_noise(last):
        eps = torch.randn(len(last), generator=generator)
        return torch.exp(0.5 * last[:, 1]) * eps

    z = _recursive_paths(model, transform.windows(origins, window), horizon, paths,
                         gaussian_noise)
    return transform.paths_to_levels(z, origins)


def one_step_residuals(model: SequenceLSTM, transform: SeriesTransform, train_end: int,
                       end: int) -> np.ndarray:
    """Standardised one-step errors ``z[t] - f(z[..t-1])`` of the recursive network for
    ``train_end <= t < end``: out of sample, since the network trained before ``train_end``."""
    first = transform.first
    with torch.no_grad():
        out, _ = model(torch.as_tensor(transform.z[first:end])[None, :, None])
    predicted = out[0, :-1, 0].numpy()     # prediction of z[first + 1 + j]
    observed = transform.z[first + 1:end]
    return (observed - predicted)[train_end - first - 1:]


def residual_bootstrap_paths(model: SequenceLSTM, transform: SeriesTransform,
                             origins: np.ndarray, window: int, horizon: int,
                             residuals: np.ndarray, paths: int, seed: int) -> np.ndarray:
    """(e) Recursive paths with a resampled residual added at every step. Levels, shaped
    (origins, H, paths)."""
    generator = torch.Generator().manual_seed(seed)
    residual_t = torch.as_tensor(residuals)

    def bootstrap_noise(last):
        pick = torch.randint(len(residual_t), (len(last),), generator=generator)
        return residual_t[pick]

    z = _recursive_paths(model, transform.windows(origins, window), horizon, paths,
                         bootstrap_noise)
    return transform.paths_to_levels(z, origins)


def mc_dropout_samples(model: DirectLSTM, transform: SeriesTransform, origins: np.ndarray,
                       window: int, paths: int, seed: int) -> np.ndarray:
    """(c) ``paths`` passes of the direct network with dropout left on. Levels, shaped
    (origins, H, paths); the model is back in evaluation mode afterwards."""
    model.train()
    torch.manual_seed(seed)  # dropout masks come from torch's global generator
    try:
        draws = direct_forecast(model, transform, origins, window, passes=paths)[..., 0]
    finally:
        model.eval()
    return draws.transpose(0, 2, 1)


def dropout_with_noise(draws: np.ndarray, residual_variance: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(c') MC dropout with a noise term: predictive mean and variance.

    The dropout passes estimate the spread of the network's *mean* (epistemic uncertainty); a
    new observation also carries the noise around that mean. Following Zhu & Laptev (2017),
    the noise variance is the held-out residual variance of the network, so that

    .. math:: \\mathrm{Var}(y_{T+h}) \\approx
              \\widehat{\\mathrm{Var}}_{\\text{dropout}}(\\hat y_{T+h}) + \\hat\\sigma^2_h .

    Parameters
    ----------
    draws : ndarray (origins, H, passes)
        Outputs of the dropout passes.
    residual_variance : ndarray (H,)
        Mean squared error of the direct forecast at held-out origins, per horizon.

    Returns
    -------
    mean, variance : ndarray (origins, H)
    """
    return draws.mean(axis=-1), draws.var(axis=-1) + np.asarray(residual_variance)[None, :]


def ensemble_paths(members: list[SequenceLSTM], transform: SeriesTransform,
                   origins: np.ndarray, window: int, horizon: int, paths: int, seed: int
                   ) -> np.ndarray:
    """(f) Deep ensemble: an equal mixture of the members' Gaussian-head paths (each member
    samples ``paths // len(members)`` paths with its own noise model; at least one). Levels,
    shaped (origins, H, paths)."""
    each = max(1, paths // len(members))
    parts = [gaussian_head_paths(model, transform, origins, window, horizon, each,
                                 stream_seed(seed, "member", str(m)))
             for m, model in enumerate(members)]
    return np.concatenate(parts, axis=-1)


def quantile_head_forecast(model: DirectLSTM, transform: SeriesTransform, origins: np.ndarray,
                           window: int) -> np.ndarray:
    """(b) The quantile heads' outputs in levels, (origins, H, taus), sorted along the last
    axis to undo any quantile crossing."""
    return np.sort(direct_forecast(model, transform, origins, window)[:, 0], axis=-1)


def split_conformal_halfwidth(calibration_point: np.ndarray, calibration_actual: np.ndarray,
                              levels: tuple[float, ...]) -> dict[float, np.ndarray]:
    """(d) Per-horizon half-widths: the split-conformal quantile of the absolute calibration
    errors (calibration origins × H) at each level."""
    scores = np.abs(calibration_actual - calibration_point)
    return {level: conformal_quantile(scores, 1 - level, axis=0) for level in levels}


def sample_forecast(key: str, label: str, draws: np.ndarray, actual: np.ndarray,
                    levels: tuple[float, ...]) -> MethodForecast:
    """A method given by sampled values (origins × H × draws): mean, empirical central
    intervals and sample CRPS."""
    lower, upper = {}, {}
    for level in levels:
        lower[level], upper[level] = sample_intervals(draws, level)
    return MethodForecast(key, label, "LSTM", draws.mean(axis=-1), lower, upper,
                          crps=crps_samples(draws, actual))


def gaussian_forecast(key: str, label: str, mean: np.ndarray, variance: np.ndarray,
                      actual: np.ndarray, levels: tuple[float, ...]) -> MethodForecast:
    """A method given by a normal predictive distribution N(mean, variance) per origin and
    horizon: central intervals and closed-form CRPS."""
    sd = np.sqrt(variance)
    lower, upper = {}, {}
    for level in levels:
        z = stats.norm.ppf(0.5 + level / 2)
        lower[level], upper[level] = mean - z * sd, mean + z * sd
    return MethodForecast(key, label, "LSTM", mean, lower, upper,
                          crps=crps_gaussian(mean, sd, actual))


def _band(key: str, label: str, centre: np.ndarray, halfwidth: dict[float, np.ndarray],
          inverse=None) -> MethodForecast:
    band = MethodForecast(key, label, "LSTM", centre,
                          {lv: centre - h for lv, h in halfwidth.items()},
                          {lv: centre + h for lv, h in halfwidth.items()})
    return band if inverse is None else back_transformed_band(band, inverse)


def _unchanged(values: np.ndarray) -> np.ndarray:
    """The identity, for a series modelled on its own scale: returns the same array, so the
    numbers of an untransformed run are exactly those computed before transforms existed."""
    return values


def fit_and_forecast(values: np.ndarray, d: int, train_end: int, calibration_origins: np.ndarray,
                     test_origins: np.ndarray, horizon: int, window: int, levels: tuple,
                     hidden: int, dropout: float, max_epochs: int, patience: int,
                     max_windows: int, paths: int, seed: int, inverse=None,
                     original: np.ndarray | None = None) -> LstmRun:
    """Train the four networks on ``values[:train_end]`` and forecast from every origin.

    Parameters
    ----------
    values : ndarray
        The whole series; only ``values[:train_end]`` trains, later values are used as inputs
        at the calibration and test origins.
    d : int
        Differencing order (0 or 1).
    calibration_origins, test_origins : ndarray
        Origins o forecast ``values[o:o+horizon]`` from ``values[:o]``.
    levels : tuple of float
        Nominal coverages of the intervals.
    seed : int
        Root of the named streams of every network's weights and batches, and of the path
        sampling of each method (``"gaussian"``, ``"bootstrap"``, ``"dropout"``).
    inverse : callable, optional
        When ``values`` are a transform of the series: the increasing map back to the original
        scale. The networks train and forecast on ``values``; every path, quantile, bound and
        point is mapped back, and the methods are scored against ``original``. The conformal
        scores (and so ``conformal_halfwidth``) stay on the transformed scale, where the
        networks' errors are.
    original : ndarray, optional
        The series on its original scale (with ``inverse``).

    Returns
    -------
    LstmRun
        Methods in the order: recursive, direct, quantile heads (b), Gaussian head (a),
        MC dropout (c), MC dropout with noise (c'), residual bootstrap (e), deep ensemble (f),
        split conformal (d), adaptive conformal (d').
    """
    started = time.perf_counter()
    transform = SeriesTransform(values, d, train_end)
    taus = interval_taus(levels)
    position = {tau: i for i, tau in enumerate(taus)}
    actual = values[test_origins[:, None] + np.arange(horizon)[None, :]]
    back = _unchanged if inverse is None else inverse
    target = actual if original is None else original[test_origins[:, None]
                                                      + np.arange(horizon)[None, :]]
    with deterministic_torch(seed):
        nets = train_networks(transform, train_end, window, horizon, taus, hidden, dropout,
                              max_epochs, patience, max_windows, seed)
        # The point forecasters of the question: recursive and direct, MSE, no distribution.
        rec_point = recursive_point_forecast(nets.recursive, transform, test_origins, window,
                                             horizon)
        direct_point = direct_forecast(nets.direct, transform, test_origins, window)[:, 0, :, 0]
        quantiles = quantile_head_forecast(nets.quantile, transform, test_origins, window)
        residuals = one_step_residuals(nets.recursive, transform, train_end,
                                       int(test_origins.min()))
        samples = {
            "gaussian": gaussian_head_paths(nets.gaussian, transform, test_origins, window,
                                            horizon, paths, stream_seed(seed, "gaussian")),
            "dropout": mc_dropout_samples(nets.direct, transform, test_origins, window, paths,
                                          stream_seed(seed, "dropout")),
            "bootstrap": residual_bootstrap_paths(nets.recursive, transform, test_origins,
                                                  window, horizon, residuals, paths,
                                                  stream_seed(seed, "bootstrap")),
            "ensemble": ensemble_paths(nets.members, transform, test_origins, window, horizon,
                                       paths, stream_seed(seed, "ensemble")),
        }
        calibration_point = direct_forecast(nets.direct, transform, calibration_origins,
                                            window)[:, 0, :, 0]

    methods = [
        MethodForecast("lstm_recursive", "LSTM recursive (MSE)", "LSTM", back(rec_point)),
        MethodForecast("lstm_direct", "LSTM direct (MSE)", "LSTM", back(direct_point)),
        MethodForecast("quantile", "LSTM quantile heads (b)", "LSTM",
                       back(quantiles[..., position[0.5]]),
                       {lv: back(quantiles[..., position[(1 - lv) / 2]]) for lv in levels},
                       {lv: back(quantiles[..., position[1 - (1 - lv) / 2]]) for lv in levels}),
    ]
    for key, label in (("gaussian", "LSTM Gaussian head, sampled paths (a)"),
                       ("dropout", "LSTM MC dropout (c)")):
        methods.append(sample_forecast(key, label, back(samples[key]), target, levels))

    calibration_actual = values[calibration_origins[:, None] + np.arange(horizon)[None, :]]
    # (c') the dropout spread plus the held-out residual variance of the direct network.
    residual_variance = np.mean((calibration_actual - calibration_point) ** 2, axis=0)
    noisy_mean, noisy_variance = dropout_with_noise(samples["dropout"], residual_variance)
    if inverse is None:
        methods.append(gaussian_forecast("dropout_noise", "LSTM MC dropout + noise (c')",
                                         noisy_mean, noisy_variance, actual, levels))
    else:
        methods.append(back_transformed_gaussian(
            "dropout_noise", "LSTM MC dropout + noise (c')", "LSTM", noisy_mean,
            noisy_variance, target, levels, inverse))
    methods.append(sample_forecast("bootstrap", "LSTM residual bootstrap (e)",
                                   back(samples["bootstrap"]), target, levels))
    methods.append(sample_forecast("ensemble", "LSTM deep ensemble (f)",
                                   back(samples["ensemble"]), target, levels))
    halfwidth = split_conformal_halfwidth(calibration_point, calibration_actual, levels)
    methods.append(_band("conformal", "LSTM split conformal (d)", direct_point, halfwidth,
                         inverse))

    # (d') adaptive conformal: the same scores, with test errors fed back once observed.
    calibration_scores = np.abs(calibration_actual - calibration_point)
    test_scores = np.abs(actual - direct_point)
    adaptive = {}
    for level in levels:
        adaptive[level], updates = adaptive_conformal(calibration_scores, test_scores,
                                                      test_origins, 1 - level, ADAPTIVE_STEP)
    methods.append(_band("adaptive", "LSTM adaptive conformal (d')", direct_point, adaptive,
                         inverse))
    return LstmRun(methods=methods, window=window, logs=nets.logs,
                   residual_sd=float(np.std(residuals) * transform.sd),
                   conformal_halfwidth=halfwidth, adaptive_updates=updates,
                   seconds=time.perf_counter() - started, calibration_point=calibration_point,
                   calibration_scores=calibration_scores, test_scores=test_scores,
                   adaptive_halfwidth=adaptive, residual_variance=residual_variance)
