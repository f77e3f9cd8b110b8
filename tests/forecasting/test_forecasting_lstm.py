"""The LSTM losses against reference formulas, and determinism under a fixed seed."""

import numpy as np
import pytest
import torch

from casestudies.forecasting import lstm, metrics
from casestudies.forecasting.data import simulate_arma_process


def test_gaussian_nll_equals_torch_reference():
    rng = np.random.default_rng(0)
    output = torch.as_tensor(rng.normal(size=(4, 7, 2)), dtype=torch.float64)
    target = torch.as_tensor(rng.normal(size=(4, 7)), dtype=torch.float64)
    reference = torch.nn.GaussianNLLLoss()(output[..., 0], target, torch.exp(output[..., 1]))
    assert float(lstm.gaussian_nll(output, target)) == pytest.approx(float(reference), rel=1e-10)


def test_pinball_equals_numpy_pinball():
    rng = np.random.default_rng(1)
    output = rng.normal(size=(5, 3, 4))
    target = rng.normal(size=(5, 3))
    taus = np.array([0.05, 0.4, 0.6, 0.95])
    ours = float(lstm.pinball(torch.as_tensor(output), torch.as_tensor(target),
                              torch.as_tensor(taus)))
    expected = metrics.pinball_loss(output, target[..., None], taus).mean()
    assert ours == pytest.approx(expected, rel=1e-12)


def _tiny_run(seed: int, d: int = 0):
    values = simulate_arma_process((0.6,), (0.2,), 320, 1.0, random_state=4)
    if d:
        values = np.cumsum(values)
    test = np.array([300, 305, 310])
    calibration = np.arange(200, 259, 3)
    return lstm.fit_and_forecast(values, d, 200, calibration, test, horizon=5, window=10,
                                 levels=(0.8, 0.95), hidden=4, dropout=0.1, max_epochs=2,
                                 patience=1, max_windows=40, paths=30, seed=seed)


def test_lstm_is_deterministic_under_a_seed():
    first, second = _tiny_run(seed=3), _tiny_run(seed=3)
    for a, b in zip(first.methods, second.methods, strict=True):
        assert a.key == b.key
        np.testing.assert_array_equal(a.point, b.point)
        for level in a.lower:
            np.testing.assert_array_equal(a.lower[level], b.lower[level])
            np.testing.assert_array_equal(a.upper[level], b.upper[level])
    other = _tiny_run(seed=4)
    assert not np.array_equal(first.methods[0].point, other.methods[0].point)


def test_lstm_methods_shapes_and_ordered_intervals():
    run = _tiny_run(seed=0, d=1)
    keys = [m.key for m in run.methods]
    assert keys == ["lstm_recursive", "lstm_direct", "quantile", "gaussian", "dropout",
                    "bootstrap", "conformal", "adaptive"]
    for method in run.methods:
        assert method.point.shape == (3, 5)
        for level in method.lower:
            assert np.all(method.lower[level] <= method.upper[level])
        if method.lower:
            assert np.all(method.lower[0.95] <= method.lower[0.8] + 1e-9)
    assert len(run.logs) == 4 and all(log.best_epoch >= 1 for log in run.logs)


def test_conformal_interval_is_point_plus_minus_calibration_quantile():
    run = _tiny_run(seed=1)
    conformal = next(m for m in run.methods if m.key == "conformal")
    direct = next(m for m in run.methods if m.key == "lstm_direct")
    np.testing.assert_allclose(conformal.upper[0.95] - direct.point,
                               np.tile(run.conformal_halfwidth[0.95], (3, 1)), rtol=1e-6)


def test_deterministic_context_restores_torch_settings():
    threads = torch.get_num_threads()
    with lstm.deterministic_torch(0):
        assert torch.get_num_threads() == 1
        assert torch.are_deterministic_algorithms_enabled()
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()


def test_recursive_paths_feed_back_prediction_plus_noise():
    # y_{T+k} = f(..., y_{T+k-1}) + r_k: rerunning the network on the whole extended sequence
    # (no carried state) must give the same path as the recursion with carried state.
    torch.manual_seed(0)
    model = lstm.SequenceLSTM(hidden=5, outputs=1).double()
    window = np.random.default_rng(0).normal(size=(1, 8, 1))
    shocks = iter([0.3, -0.2, 0.5, 0.1])

    def noise(last):
        return torch.full((len(last),), next(shocks), dtype=torch.float64)

    paths = lstm._recursive_paths(model, window, 4, 1, noise)[0, :, 0]
    sequence = list(window[0, :, 0])
    for shock in (0.3, -0.2, 0.5, 0.1):
        with torch.no_grad():
            out, _ = model(torch.as_tensor(np.array(sequence))[None, :, None])
        sequence.append(float(out[0, -1, 0]) + shock)
    np.testing.assert_allclose(paths, sequence[-4:], rtol=1e-10)
