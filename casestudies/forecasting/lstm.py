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
* a direct LSTM with **quantile heads** for every horizon, trained by pinball loss: (b).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from casestudies.forecasting.metrics import (
    MethodForecast,
    adaptive_conformal,
    conformal_quantile,
    crps_samples,
    sample_intervals,
)
from casestudies.progress import progress

# Stacked LSTM layers in every network: one is enough for a univariate series this size.
LAYERS = 1
LEARNING_RATE = 5e-3
BATCH_SIZE = 32
VALIDATION_SHARE = 0.2
# Step of the adaptive-conformal level update: larger than Gibbs & Candès' 0.005 because a
# backtest feeds back only a few dozen outcomes per horizon.
ADAPTIVE_STEP = 0.02


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
    """How one network trained: losses per epoch and the epoch kept (best validation loss)."""

    name: str
    train_loss: list[float]
    validation_loss: list[float]
    best_epoch: int
    windows: int
    seconds: float


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
                       seconds=time.perf_counter() - started)


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
    """Every LSTM forecast at the test origins, and how the networks were trained."""

    methods: list[MethodForecast]
    window: int
    logs: list[TrainingLog]
    residual_sd: float
    conformal_halfwidth: dict[float, np.ndarray]
    adaptive_updates: np.ndarray
    seconds: float


class _Transform:
    """Differencing (d = 0 or 1) and standardisation with training statistics.

    ``z[t]`` is the standardised value (d = 0) or change ``y[t] - y[t-1]`` (d = 1), aligned with
    ``y`` (``z[0]`` undefined when d = 1). Direct targets are the level (d = 0) or the change
    since the origin (d = 1), standardised per horizon.
    """

    def __init__(self, values: np.ndarray, d: int, train_end: int):
        self.values, self.d = values, d
        x = values.astype(np.float64).copy()
        if d == 1:
            x[1:] = np.diff(values)
            x[0] = np.nan
        self.first = d
        self.mean = float(np.mean(x[d:train_end]))
        self.sd = float(np.std(x[d:train_end]))
        self.z = ((x - self.mean) / self.sd).astype(np.float32)

    def direct_targets(self, origins: np.ndarray, horizon: int) -> np.ndarray:
        future = self.values[origins[:, None] + np.arange(horizon)[None, :]]
        if self.d == 1:
            future = future - self.values[origins - 1][:, None]
        return future

    def windows(self, origins: np.ndarray, window: int) -> np.ndarray:
        return self.z[origins[:, None] + np.arange(-window, 0)[None, :]][..., None]

    def paths_to_levels(self, z_paths: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Standardised one-step paths (origins × H × paths) back to levels."""
        x = z_paths * self.sd + self.mean
        if self.d == 1:
            return self.values[origins - 1][:, None, None] + np.cumsum(x, axis=1)
        return x


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


def fit_and_forecast(values: np.ndarray, d: int, train_end: int, calibration_origins: np.ndarray,
                     test_origins: np.ndarray, horizon: int, window: int, levels: tuple,
                     hidden: int, dropout: float, max_epochs: int, patience: int,
                     max_windows: int, paths: int, seed: int) -> LstmRun:
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
        Seeds weights, batch order, dropout and sampling.

    Returns
    -------
    LstmRun
    """
    started = time.perf_counter()
    transform = _Transform(values, d, train_end)
    alphas = [1 - level for level in levels]
    taus = np.array(sorted({a / 2 for a in alphas} | {1 - a / 2 for a in alphas} | {0.5}))
    logs = []
    with deterministic_torch(seed):
        generator = torch.Generator().manual_seed(seed)
        # Sequence windows: inputs z[s:s+L], one-step targets z[s+1:s+L+1], all in training.
        starts = np.arange(transform.first, train_end - window)
        fit, held = _split(starts, max_windows)
        warm = window // 4  # positions with too little history are not scored

        def seq_data(s):
            index = s[:, None] + np.arange(window + 1)[None, :]
            block = transform.z[index]
            return block[:, :-1, None], block[:, 1:]

        seq_x, seq_y = seq_data(fit)
        seq_val = seq_data(held)

        def mse_seq(model, x, y):
            return ((model(x)[0][:, warm:, 0] - y[:, warm:]) ** 2).mean()

        def nll_seq(model, x, y):
            return gaussian_nll(model(x)[0][:, warm:], y[:, warm:])

        recursive = SequenceLSTM(hidden, 1)
        logs.append(train(recursive, mse_seq, seq_x, seq_y, seq_val, max_epochs, patience,
                          "recursive (MSE)", generator))
        gaussian = SequenceLSTM(hidden, 2)
        logs.append(train(gaussian, nll_seq, seq_x, seq_y, seq_val, max_epochs, patience,
                          "Gaussian head (NLL)", generator))

        # Direct windows: origins o with inputs z[o-L:o] and targets y[o:o+H] in training.
        origins = np.arange(transform.first + window, train_end - horizon + 1)
        fit_o, held_o = _split(origins, max_windows)
        raw = transform.direct_targets(fit_o, horizon)
        centre, spread = raw.mean(axis=0), raw.std(axis=0) + 1e-8

        def direct_data(o):
            targets = (transform.direct_targets(o, horizon) - centre) / spread
            return transform.windows(o, window), targets.astype(np.float32)

        dir_x, dir_y = direct_data(fit_o)
        dir_val = direct_data(held_o)
        taus_t = torch.as_tensor(taus, dtype=torch.float32)

        def mse_direct(model, x, y):
            return ((model(x) - y) ** 2).mean()

        def pinball_direct(model, x, y):
            return pinball(model(x).reshape(len(x), horizon, len(taus)), y, taus_t)

        direct = DirectLSTM(hidden, horizon, dropout)
        logs.append(train(direct, mse_direct, dir_x, dir_y, dir_val, max_epochs, patience,
                          "direct (MSE)", generator))
        quantile = DirectLSTM(hidden, horizon * len(taus), 0.0)
        logs.append(train(quantile, pinball_direct, dir_x, dir_y, dir_val, max_epochs, patience,
                          "quantile heads (pinball)", generator))

        def direct_levels(model, o, passes=1):
            x = torch.as_tensor(np.repeat(transform.windows(o, window), passes, axis=0))
            with torch.no_grad():
                out = model(x).numpy().reshape(len(o), passes, horizon, -1)
            levels_ = out * spread[None, None, :, None] + centre[None, None, :, None]
            if d == 1:
                levels_ = levels_ + values[o - 1][:, None, None, None]
            return levels_

        methods = []
        test_windows = transform.windows(test_origins, window)

        # The point forecasters of the question: recursive and direct, MSE, no distribution.
        def zero(last):
            return 0.0

        rec_point = transform.paths_to_levels(
            _recursive_paths(recursive, test_windows, horizon, 1, zero), test_origins)[..., 0]
        methods.append(MethodForecast("lstm_recursive", "LSTM recursive (MSE)", "LSTM",
                                      rec_point))
        direct_point = direct_levels(direct, test_origins)[:, 0, :, 0]
        methods.append(MethodForecast("lstm_direct", "LSTM direct (MSE)", "LSTM", direct_point))

        # (a) Gaussian head, sampled recursively.
        noise_generator = torch.Generator().manual_seed(seed + 1)

        def gaussian_noise(last):
            eps = torch.randn(len(last), generator=noise_generator)
            return torch.exp(0.5 * last[:, 1]) * eps

        z_paths = _recursive_paths(gaussian, test_windows, horizon, paths, gaussian_noise)
        samples = {"gaussian": transform.paths_to_levels(z_paths, test_origins)}

        # (e) residual bootstrap: out-of-sample one-step residuals of the recursive model on
        # the calibration stretch, resampled and fed back.
        first_test = int(test_origins.min())
        with torch.no_grad():
            seq_out, _ = recursive(torch.as_tensor(transform.z[transform.first:first_test])[
                None, :, None])
        predicted = seq_out[0, :-1, 0].numpy()
        observed = transform.z[transform.first + 1:first_test]
        residuals = (observed - predicted)[train_end - transform.first - 1:]
        residual_t = torch.as_tensor(residuals)

        def bootstrap_noise(last):
            pick = torch.randint(len(residual_t), (len(last),), generator=noise_generator)
            return residual_t[pick]

        z_paths = _recursive_paths(recursive, test_windows, horizon, paths, bootstrap_noise)
        samples["bootstrap"] = transform.paths_to_levels(z_paths, test_origins)

        # (c) MC dropout: the direct network with dropout left on.
        direct.train()
        torch.manual_seed(seed + 2)
        samples["dropout"] = direct_levels(direct, test_origins, passes=paths)[..., 0].transpose(
            0, 2, 1)
        direct.eval()

        # (b) quantile heads: sorted to undo any quantile crossing.
        quantiles = np.sort(direct_levels(quantile, test_origins)[:, 0], axis=-1)

    actual = values[test_origins[:, None] + np.arange(horizon)[None, :]]
    for key, label in (("gaussian", "LSTM Gaussian head, sampled paths (a)"),
                       ("dropout", "LSTM MC dropout (c)"),
                       ("bootstrap", "LSTM residual bootstrap (e)")):
        draws = samples[key]
        lower, upper = {}, {}
        for level in levels:
            lower[level], upper[level] = sample_intervals(draws, level)
        methods.append(MethodForecast(key, label, "LSTM", draws.mean(axis=-1), lower, upper,
                                      crps=crps_samples(draws, actual)))

    position = {tau: i for i, tau in enumerate(taus)}
    q_lower = {lv: quantiles[..., position[(1 - lv) / 2]] for lv in levels}
    q_upper = {lv: quantiles[..., position[1 - (1 - lv) / 2]] for lv in levels}
    methods.insert(2, MethodForecast("quantile", "LSTM quantile heads (b)", "LSTM",
                                     quantiles[..., position[0.5]], q_lower, q_upper))

    # (d) split conformal per horizon around the direct forecast.
    with deterministic_torch(seed):
        cal_point = direct_levels(direct, calibration_origins)[:, 0, :, 0]
    cal_actual = values[calibration_origins[:, None] + np.arange(horizon)[None, :]]
    scores = np.abs(cal_actual - cal_point)
    halfwidth = {lv: conformal_quantile(scores, 1 - lv, axis=0) for lv in levels}
    methods.append(MethodForecast(
        "conformal", "LSTM split conformal (d)", "LSTM", direct_point,
        {lv: direct_point - halfwidth[lv] for lv in levels},
        {lv: direct_point + halfwidth[lv] for lv in levels}))

    # (d') adaptive conformal: the same scores, with test errors fed back once observed.
    test_scores = np.abs(actual - direct_point)
    adaptive = {}
    for level in levels:
        adaptive[level], updates = adaptive_conformal(scores, test_scores, test_origins,
                                                      1 - level, ADAPTIVE_STEP)
    methods.append(MethodForecast(
        "adaptive", "LSTM adaptive conformal (d')", "LSTM", direct_point,
        {lv: direct_point - adaptive[lv] for lv in levels},
        {lv: direct_point + adaptive[lv] for lv in levels}))
    return LstmRun(methods=methods, window=window, logs=logs,
                   residual_sd=float(np.std(residuals) * transform.sd),
                   conformal_halfwidth=halfwidth, adaptive_updates=updates,
                   seconds=time.perf_counter() - started)
