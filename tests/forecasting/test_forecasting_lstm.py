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
                    "dropout_noise", "bootstrap", "ensemble", "conformal", "adaptive"]
    for method in run.methods:
        assert method.point.shape == (3, 5)
        for level in method.lower:
            assert np.all(method.lower[level] <= method.upper[level])
        if method.lower:
            assert np.all(method.lower[0.95] <= method.lower[0.8] + 1e-9)
    assert len(run.logs) == 3 + lstm.ENSEMBLE_MEMBERS
    assert all(log.best_epoch >= 1 for log in run.logs)
    # The ensemble mixes every member's paths: each member contributes paths // members.
    ensemble = next(m for m in run.methods if m.key == "ensemble")
    assert ensemble.crps.shape == (3, 5)


def test_conformal_half_width_is_the_finite_sample_quantile_of_calibration_errors():
    run = _tiny_run(seed=1)
    values = simulate_arma_process((0.6,), (0.2,), 320, 1.0, random_state=4)
    calibration = np.arange(200, 259, 3)
    actual = values[calibration[:, None] + np.arange(5)[None, :]]
    errors = np.abs(actual - run.calibration_point)
    n = len(calibration)                     # 20 calibration origins
    # The ceil((n + 1)(1 - alpha))-th smallest error: 20th of 20 at 95%, 17th at 80%.
    for level, rank in ((0.95, 20), (0.8, 17)):
        assert rank == int(np.ceil((n + 1) * level))
        for h in range(5):
            by_hand = sorted(errors[:, h])[rank - 1]
            assert run.conformal_halfwidth[level][h] == pytest.approx(by_hand, rel=1e-12)
            # At least `rank` of the n calibration errors fall inside the interval.
            assert np.sum(errors[:, h] <= run.conformal_halfwidth[level][h]) >= rank
    conformal = next(m for m in run.methods if m.key == "conformal")
    direct = next(m for m in run.methods if m.key == "lstm_direct")
    np.testing.assert_allclose(conformal.upper[0.8] - direct.point,
                               np.tile(run.conformal_halfwidth[0.8], (3, 1)), rtol=1e-6)


def test_split_conformal_half_width_by_hand():
    # Nine calibration origins, two horizons: at 80% the rank is ceil(10 * 0.8) = 8.
    point = np.zeros((9, 2))
    actual = np.column_stack([np.arange(1, 10), -np.arange(10, 19)]).astype(float)
    halfwidth = lstm.split_conformal_halfwidth(point, actual, (0.8,))
    np.testing.assert_array_equal(halfwidth[0.8], [8.0, 17.0])


def _transform(d: int = 0):
    values = np.cumsum(np.arange(60.0) % 7) if d else np.sin(np.arange(60.0)) * 3 + 5
    return values, lstm.SeriesTransform(values, d, train_end=40)


@pytest.mark.parametrize("d", [0, 1])
def test_sequence_windows_pair_each_position_with_the_next_value(d):
    _, transform = _transform(d)
    starts = np.array([d, 5, 20])
    x, y = lstm.sequence_windows(transform.z, starts, window=6)
    assert x.shape == (3, 6, 1) and y.shape == (3, 6)
    np.testing.assert_array_equal(x[:, 1:, 0], y[:, :-1])
    np.testing.assert_array_equal(y[:, -1], transform.z[starts + 6])
    assert np.all(np.isfinite(x))


@pytest.mark.parametrize("d", [0, 1])
def test_direct_windows_standardise_targets_and_map_back_to_levels(d):
    values, transform = _transform(d)
    origins = np.arange(10, 36)
    transform.fit_direct_scaling(origins, 5)
    x, y = lstm.direct_windows(transform, origins, window=8, horizon=5)
    # Inputs end just before the origin; targets are standardised per horizon.
    np.testing.assert_array_equal(x[:, -1, 0], transform.z[origins - 1])
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=0), 1.0, atol=1e-4)
    levels = transform.direct_to_levels(y[:, None, :, None].astype(float), origins)[:, 0, :, 0]
    np.testing.assert_allclose(levels, values[origins[:, None] + np.arange(5)], rtol=1e-5)


def test_training_positions_stay_inside_the_training_stretch():
    _, transform = _transform(1)
    positions = lstm.training_starts(transform, train_end=40, window=6, horizon=5,
                                     max_windows=100)
    fit, held = positions["sequence"]
    assert fit.min() >= transform.first and held.max() + 6 <= 39   # last target z[s + L]
    assert fit.max() < held.min()                                  # validation comes later
    fit, held = positions["direct"]
    assert fit.min() - 6 >= transform.first and held.max() + 5 - 1 <= 39
    assert fit.max() < held.min()


def test_training_stops_after_patience_epochs_and_keeps_the_best_weights():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    x = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    validation_losses = iter([5.0, 3.0, 4.0, 4.5, 4.2, 1.0])   # best at epoch 2
    states = []

    def loss(model_, inputs, targets):
        if len(inputs) == 3:                                   # the validation call
            states.append({k: v.clone() for k, v in model_.state_dict().items()})
            return torch.tensor(next(validation_losses))
        return ((model_(inputs) - targets) ** 2).mean()

    log = lstm.train(model, loss, x, y, (x[:3], y[:3]), max_epochs=10, patience=3,
                     name="toy", generator=torch.Generator().manual_seed(0))
    assert log.best_epoch == 2
    assert len(log.validation_loss) == log.epochs_run == 5      # epochs 3, 4, 5 did not improve
    assert log.best_validation_loss == 3.0
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, states[1][key])
        assert not torch.equal(value, states[-1][key])


def test_interval_taus_are_both_ends_of_every_interval_and_the_median():
    np.testing.assert_allclose(lstm.interval_taus((0.8, 0.95)),
                               [0.025, 0.1, 0.5, 0.9, 0.975])


def _networks(dropout: float, seed: int = 5):
    values = simulate_arma_process((0.6,), (0.2,), 200, 1.0, random_state=4)
    transform = lstm.SeriesTransform(values, 0, train_end=150)
    with lstm.deterministic_torch(seed):
        nets = lstm.train_networks(transform, 150, window=10, horizon=4,
                                   taus=lstm.interval_taus((0.8,)), hidden=3, dropout=dropout,
                                   max_epochs=2, patience=1, max_windows=30, seed=seed)
    return transform, nets


def test_each_network_trains_from_its_own_streams():
    # Changing the direct network's dropout changes that network only.
    _, first = _networks(dropout=0.1)
    _, second = _networks(dropout=0.4)
    for key in ("recursive", "gaussian", "quantile"):
        for a, b in zip(getattr(first, key).parameters(), getattr(second, key).parameters(),
                        strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not all(torch.equal(a, b) for a, b in zip(first.direct.parameters(),
                                                       second.direct.parameters(), strict=True))


def test_mc_dropout_varies_between_passes_is_seeded_and_restores_evaluation_mode():
    transform, nets = _networks(dropout=0.5)
    origins = np.array([160, 170])
    with lstm.deterministic_torch(0):
        draws = lstm.mc_dropout_samples(nets.direct, transform, origins, 10, paths=25, seed=1)
        again = lstm.mc_dropout_samples(nets.direct, transform, origins, 10, paths=25, seed=1)
        point = lstm.direct_forecast(nets.direct, transform, origins, 10)[:, 0, :, 0]
    assert draws.shape == (2, 4, 25)
    assert not nets.direct.training
    np.testing.assert_array_equal(draws, again)
    assert np.all(draws.std(axis=-1) > 0)
    assert not np.allclose(point[..., None], draws)


def test_one_step_residuals_are_out_of_sample_errors_of_the_recursive_network():
    transform, nets = _networks(dropout=0.1)
    residuals = lstm.one_step_residuals(nets.recursive, transform, train_end=150, end=170)
    assert len(residuals) == 20
    # The residual of z[160] from the network run on z[:160] alone.
    with torch.no_grad():
        out, _ = nets.recursive(torch.as_tensor(transform.z[:160])[None, :, None])
    assert residuals[10] == pytest.approx(float(transform.z[160] - out[0, -1, 0]), abs=1e-5)


def test_sampled_paths_are_seeded_by_their_own_stream():
    transform, nets = _networks(dropout=0.1)
    origins = np.array([160, 170])
    residuals = np.linspace(-1, 1, 9).astype(np.float32)
    with lstm.deterministic_torch(0):
        gaussian = [lstm.gaussian_head_paths(nets.gaussian, transform, origins, 10, 4, 30, s)
                    for s in (1, 1, 2)]
        boot = [lstm.residual_bootstrap_paths(nets.recursive, transform, origins, 10, 4,
                                              residuals, 30, s) for s in (1, 1, 2)]
    for paths in (gaussian, boot):
        assert paths[0].shape == (2, 4, 30)
        np.testing.assert_array_equal(paths[0], paths[1])
        assert not np.array_equal(paths[0], paths[2])


def test_quantile_heads_are_sorted():
    transform, nets = _networks(dropout=0.1)
    quantiles = lstm.quantile_head_forecast(nets.quantile, transform, np.array([160, 170]), 10)
    assert quantiles.shape == (2, 4, 3)
    assert np.all(np.diff(quantiles, axis=-1) >= 0)


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


def test_mc_dropout_with_noise_adds_the_residual_variance():
    from casestudies.forecasting.lstm import dropout_with_noise

    rng = np.random.default_rng(0)
    draws = rng.normal(3.0, 0.2, size=(4, 5, 2000))     # origins × H × dropout passes
    residual = np.array([0.5, 1.0, 1.5, 2.0, 2.5])
    mean, variance = dropout_with_noise(draws, residual)
    np.testing.assert_allclose(mean, draws.mean(axis=-1))
    np.testing.assert_allclose(variance, draws.var(axis=-1) + residual[None, :])
    # Independently: a dropout draw plus independent noise of the residual variance has the
    # variance of the sum (the law of total variance).
    noisy = draws + rng.normal(0.0, np.sqrt(residual)[None, :, None], size=draws.shape)
    np.testing.assert_allclose(noisy.var(axis=-1), variance, rtol=0.1)
