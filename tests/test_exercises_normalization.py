"""Exercises 10 (BatchNorm) and 11 (Dropout): references, planted mistakes, the files.

The references agree with tinyae.normalization's layers; every named mistake is
planted in a wrong implementation below and gets its diagnosis by name; correct
answers written differently pass; the solution files pass and the untouched
exercise files report "not implemented".
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyae.exercises import EXERCISES, check_exercise, load_functions, main_check
from tinyae.normalization import BatchNorm1d, Dropout

ROOT = Path(__file__).resolve().parents[1]
FILES = {"ex10_batchnorm_backward": ("batchnorm_forward", "batchnorm_backward"),
         "ex11_dropout": ("dropout_forward", "dropout_backward")}


def check(fn, name, **kwargs):
    return check_exercise(fn, name=name, verbose=False, **kwargs)


def diagnosis_of(fn, name, output, **kwargs):
    report = check(fn, name, **kwargs)
    assert not report.passed, str(report)
    assert not report[output].passed, str(report)
    return report[output].diagnosis


def case(name, shape, seed=0):
    return EXERCISES[name].make_inputs(shape, np.random.default_rng(seed))


# ----- the files ---------------------------------------------------------------------------
@pytest.mark.parametrize("stem", FILES)
def test_files_define_the_registered_functions(stem):
    for folder in ("exercises", "solutions"):
        path = ROOT / "lessons" / folder / f"{stem}.py"
        assert tuple(load_functions(path)) == FILES[stem]
    for name in FILES[stem]:
        assert EXERCISES[name].file == stem
    text = (ROOT / "lessons" / "exercises" / f"{stem}.py").read_text()
    assert f"tinyae check lessons/exercises/{stem}.py" in text
    assert "lessons/solutions/" in text and "raise NotImplementedError" in text


def test_reference_solutions_pass(capsys):
    paths = [str(ROOT / "lessons" / "solutions" / f"{stem}.py") for stem in FILES]
    assert main_check(paths) == 0
    out = capsys.readouterr().out
    assert "2 of 2 files passed" in out and "FAIL" not in out


@pytest.mark.parametrize("stem", FILES)
def test_untouched_exercises_report_not_implemented(stem, capsys):
    path = ROOT / "lessons" / "exercises" / f"{stem}.py"
    assert main_check([str(path)]) == 1
    out, err = capsys.readouterr()
    for name in FILES[stem]:
        assert f"not implemented yet: {name} in {path}" in out
    assert "Traceback" not in out + err


def test_the_readmes_list_the_new_exercises():
    for folder in ("exercises", "solutions"):
        text = (ROOT / "lessons" / folder / "README.md").read_text()
        for stem in FILES:
            assert f"{stem}.py" in text


# ----- the references are tinyae.normalization's layers ---------------------------------------
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_forward_reference_is_batchnorm1d(training):
    x, gamma, beta, rm, rv, momentum, eps, _ = case("batchnorm_forward", (5, 4, training))
    layer = BatchNorm1d(4, eps=eps, momentum=momentum).train(training)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    layer.buffers["running_mean"][...], layer.buffers["running_var"][...] = rm, rv
    y, new_rm, new_rv = EXERCISES["batchnorm_forward"].reference(x, gamma, beta, rm, rv,
                                                                 momentum, eps, training)
    np.testing.assert_allclose(layer.forward(x), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_mean"], new_rm, rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], new_rv, rtol=1e-12)


def test_batchnorm_backward_reference_is_batchnorm1d():
    x, gamma, beta, rm, rv, eps, grad_out = case("batchnorm_backward", (6, 3))
    layer = BatchNorm1d(3, eps=eps)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    layer.forward(x)
    dx = layer.backward(grad_out)
    want = (dx, layer.grads["gamma"], layer.grads["beta"])
    got = EXERCISES["batchnorm_backward"].reference(x, gamma, beta, rm, rv, eps, grad_out)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_dropout_references_are_the_dropout_layer():
    # the layer draws u = rng.random(shape) and keeps where u >= p: the same mask from the same u
    x = np.random.default_rng(1).standard_normal((4, 7))
    grad_out = np.random.default_rng(2).standard_normal((4, 7))
    layer = Dropout(0.3, seed=5)
    u = np.random.default_rng(5).random(x.shape)
    forward, backward = EXERCISES["dropout_forward"], EXERCISES["dropout_backward"]
    np.testing.assert_array_equal(layer.forward(x), forward.reference(x, 0.3, u, True))
    np.testing.assert_array_equal(layer.backward(grad_out),
                                  backward.reference(x, 0.3, u, grad_out))
    layer.eval()
    np.testing.assert_array_equal(layer.forward(x), forward.reference(x, 0.3, u, False))


# ----- correct answers, written differently, pass ----------------------------------------------
def batchnorm_forward_with_the_layer(x, gamma, beta, running_mean, running_var, momentum, eps,
                                     training):
    layer = BatchNorm1d(x.shape[1], eps=eps, momentum=momentum).train(training)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    layer.buffers["running_mean"][...] = running_mean
    layer.buffers["running_var"][...] = running_var
    y = layer.forward(x)
    return y, layer.buffers["running_mean"], layer.buffers["running_var"]


def batchnorm_forward_by_loops(x, gamma, beta, running_mean, running_var, momentum, eps,
                               training):
    N, F = x.shape
    y, new_mean, new_var = np.empty_like(x), running_mean.copy(), running_var.copy()
    for j in range(F):
        if training:
            mu = sum(x[:, j]) / N
            ss = sum((x[:, j] - mu) ** 2)
            var = ss / N
            new_mean[j] = running_mean[j] + momentum * (mu - running_mean[j])
            new_var[j] = running_var[j] + momentum * (ss / (N - 1) - running_var[j])
        else:
            mu, var = running_mean[j], running_var[j]
        y[:, j] = gamma[j] * (x[:, j] - mu) / (var + eps) ** 0.5 + beta[j]
    return y, new_mean, new_var


def batchnorm_backward_step_by_step(x, gamma, beta, running_mean, running_var, eps, grad_out):
    """The computational graph, one node at a time (the CS231n way)."""
    N = x.shape[0]
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc**2).mean(axis=0)
    std = np.sqrt(var + eps)
    inv = 1 / std
    x_hat = xc * inv
    dx_hat = grad_out * gamma
    dinv = (dx_hat * xc).sum(axis=0)
    dxc = dx_hat * inv
    dstd = -dinv / std**2
    dvar = dstd / (2 * std)
    dxc = dxc + 2 * xc / N * dvar
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / N
    return dx, (grad_out * x_hat).sum(axis=0), grad_out.sum(axis=0)


def batchnorm_backward_with_the_layer(x, gamma, beta, running_mean, running_var, eps, grad_out):
    layer = BatchNorm1d(x.shape[1], eps=eps)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    layer.forward(x)
    return layer.backward(grad_out), layer.grads["gamma"], layer.grads["beta"]


def dropout_forward_where(x, p, u, training):
    return np.where(u < p, 0.0, x / (1 - p)) if training else x


def dropout_backward_where(x, p, u, grad_out):
    return np.where(u >= p, grad_out, 0.0) / (1 - p)


@pytest.mark.parametrize("fn, name", [
    (batchnorm_forward_with_the_layer, "batchnorm_forward"),
    (batchnorm_forward_by_loops, "batchnorm_forward"),
    (batchnorm_backward_step_by_step, "batchnorm_backward"),
    (batchnorm_backward_with_the_layer, "batchnorm_backward"),
    (dropout_forward_where, "dropout_forward"),
    (dropout_backward_where, "dropout_backward"),
])
def test_correct_but_differently_written_answers_pass(fn, name):
    report = check(fn, name)
    assert report.passed, str(report)


def test_forward_outputs_are_checked_against_the_reference_only():
    report = check(batchnorm_forward_by_loops, "batchnorm_forward")
    assert all(not row.is_gradient and np.isnan(row.fd_error) for row in report.rows)
    assert "(forward)" in str(report) and "all 3 outputs are right" in str(report)
    backward = check(batchnorm_backward_step_by_step, "batchnorm_backward")
    assert all(row.is_gradient and row.fd_error < 1e-6 for row in backward.rows)


# ----- BatchNorm: each named mistake, planted ----------------------------------------------
def _bn_parts(x, eps, ddof=0, axis=0):
    mean, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, ddof=ddof, keepdims=True)
    std = np.sqrt(var + eps)
    return (x - mean) / std, std


def bn_backward(x, gamma, eps, grad_out, through_mean=True, through_var=True, ddof=0, axis=0,
                std_and_x_hat=None):
    """A backward written the way a student might, with switches for the mistakes."""
    N = x.shape[0]
    x_hat, std = std_and_x_hat or _bn_parts(x, eps, ddof)
    d = grad_out * gamma
    dx = N * d
    if through_mean:
        dx = dx - d.sum(axis=axis, keepdims=True)
    if through_var:
        dx = dx - x_hat * (d * x_hat).sum(axis=axis, keepdims=True)
    return dx / (N * std), (grad_out * x_hat).sum(axis=0), grad_out.sum(axis=0)


@pytest.mark.parametrize("mistake, label", [
    (dict(through_mean=False), "treated the batch mean as a constant"),
    (dict(through_var=False), "treated the batch variance as a constant"),
    (dict(through_mean=False, through_var=False),
     "treated the batch mean and variance as constants"),
    (dict(axis=1), "summed over the wrong axis"),
    (dict(ddof=1), "swapped biased and unbiased variance"),
])
def test_batchnorm_backward_mistakes_are_named(mistake, label):
    def attempt(x, gamma, beta, running_mean, running_var, eps, grad_out):
        return bn_backward(x, gamma, eps, grad_out, **mistake)
    diagnosis = diagnosis_of(attempt, "batchnorm_backward", "dx")
    assert diagnosis.startswith(label)
    assert "; or" not in diagnosis  # one mistake named, not a list of guesses


def test_batchnorm_backward_with_the_running_statistics():
    def full_formula(x, gamma, beta, running_mean, running_var, eps, grad_out):
        std = np.sqrt(running_var + eps)
        return bn_backward(x, gamma, eps, grad_out,
                           std_and_x_hat=((x - running_mean) / std, std))

    def eval_mode_backward(x, gamma, beta, running_mean, running_var, eps, grad_out):
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        return (grad_out * gamma / np.sqrt(running_var + eps), (grad_out * x_hat).sum(0),
                grad_out.sum(0))

    for attempt in (full_formula, eval_mode_backward):
        report = check(attempt, "batchnorm_backward")
        assert report["dbeta"].passed
        for name in ("dx", "dgamma"):
            assert report[name].diagnosis.startswith("used the running statistics in train mode")


def test_batchnorm_backward_sums_over_the_wrong_axis_everywhere():
    def attempt(x, gamma, beta, running_mean, running_var, eps, grad_out):
        x_hat, std = _bn_parts(x, eps)
        d = grad_out * gamma
        N = x.shape[0]
        dx = (N * d - d.sum(axis=1, keepdims=True)
              - x_hat * (d * x_hat).sum(axis=1, keepdims=True)) / (N * std)
        return dx, (grad_out * x_hat).sum(axis=1), grad_out.sum(axis=1)
    report = check(attempt, "batchnorm_backward")
    for name in ("dx", "dgamma", "dbeta"):
        assert report[name].diagnosis.startswith("summed over the wrong axis"), str(report)


def test_batchnorm_backward_gamma_and_eps_forgotten():
    def no_gamma(x, gamma, beta, running_mean, running_var, eps, grad_out):
        return bn_backward(x, np.ones_like(gamma), eps, grad_out)[0], *bn_backward(
            x, gamma, eps, grad_out)[1:]

    def no_eps(x, gamma, beta, running_mean, running_var, eps, grad_out):
        return bn_backward(x, gamma, 0.0, grad_out)
    assert diagnosis_of(no_gamma, "batchnorm_backward", "dx").startswith("forgot γ")
    report = check(no_eps, "batchnorm_backward")
    assert report["dx"].diagnosis.startswith("forgot ε")
    assert report["dbeta"].passed


def make_bn_forward(norm="batch", eval_norm="running", norm_ddof=0, running_ddof=1,
                    weight=lambda m: m, update_in_eval=False, update=True, eps_on=True):
    """A student's forward with switches for the mistakes."""
    def attempt(x, gamma, beta, running_mean, running_var, momentum, eps, training):
        N = x.shape[0]
        if (norm if training else eval_norm) == "batch":
            stats = (x.mean(axis=0), x.var(axis=0, ddof=norm_ddof))
        else:
            stats = (running_mean, running_var)
        y = gamma * (x - stats[0]) / np.sqrt(stats[1] + (eps if eps_on else 0.0)) + beta
        new_mean, new_var = running_mean.copy(), running_var.copy()
        if update and (training or update_in_eval):
            w = weight(momentum)
            var = x.var(axis=0) * N / (N - 1) if running_ddof == 1 else x.var(axis=0)
            new_mean = (1 - w) * running_mean + w * x.mean(axis=0)
            new_var = (1 - w) * running_var + w * var
        return y, new_mean, new_var
    return attempt


@pytest.mark.parametrize("switches, failing, label", [
    (dict(norm="running"), ["y"], "used the running statistics in train mode"),
    (dict(eval_norm="batch"), ["y"], "used the batch statistics in eval mode"),
    (dict(norm_ddof=1), ["y"], "swapped biased and unbiased variance"),
    (dict(running_ddof=0), ["new_running_var"], "swapped biased and unbiased variance"),
    (dict(norm_ddof=1, running_ddof=0), ["y", "new_running_var"],
     "swapped biased and unbiased variance"),
    (dict(weight=lambda m: 1 - m), ["new_running_mean", "new_running_var"],
     "momentum the wrong way round"),
    (dict(update=False), ["new_running_mean", "new_running_var"],
     "did not update the running statistics"),
    (dict(eps_on=False), ["y"], "forgot ε"),
])
def test_batchnorm_forward_mistakes_are_named(switches, failing, label):
    report = check(make_bn_forward(**switches), "batchnorm_forward")
    assert [row.name for row in report.rows if not row.passed] == failing, str(report)
    for name in failing:
        assert report[name].diagnosis.startswith(label), str(report)


def test_updating_in_eval_mode_is_named_even_where_n_minus_1_is_0():
    # the eval case with a batch of one divides by N − 1 = 0: that case is reported apart
    report = check(make_bn_forward(update_in_eval=True), "batchnorm_forward")
    assert report["y"].passed and not report["new_running_mean"].passed
    assert report["new_running_mean"].diagnosis.startswith(
        "updated the running statistics in eval mode")
    var = report["new_running_var"].diagnosis
    assert var.startswith("updated the running statistics in eval mode") and "not finite" in var
    biased = check(make_bn_forward(update_in_eval=True, running_ddof=0), "batchnorm_forward")
    assert biased["new_running_mean"].diagnosis.startswith(
        "updated the running statistics in eval mode")


# ----- Dropout: each named mistake, planted ----------------------------------------------------
def dropout_forward_own_mask(x, p, u, training):
    if not training:
        return x
    return x * (np.random.default_rng(123).random(x.shape) >= p) / (1 - p)


@pytest.mark.parametrize("fn, label", [
    (lambda x, p, u, training: x * (u >= p) if training else x, "forgot the 1/(1 − p) scale"),
    (lambda x, p, u, training: x * (u >= p) / (1 - p), "dropped in eval mode"),
    (lambda x, p, u, training: x * (np.random.default_rng(7).random(x.shape) >= p) / (1 - p)
     if not training else x * (u >= p) / (1 - p), "dropped in eval mode"),
    (dropout_forward_own_mask, "drew its own mask instead of using u"),
    (lambda x, p, u, training: x * (u >= p) * (1 - p) if training else x,
     "multiplied by 1 − p instead of dividing"),
    (lambda x, p, u, training: x * (u < p) / p if training else x,
     "took p as the keep probability"),
    (lambda x, p, u, training: x, "dropped nothing in train mode"),
])
def test_dropout_forward_mistakes_are_named(fn, label):
    diagnosis = diagnosis_of(fn, "dropout_forward", "y")
    assert diagnosis.startswith(label)


def test_two_mistakes_in_different_modes_are_both_named_with_their_cases():
    report = check(lambda x, p, u, training: x * (u >= p), "dropout_forward")
    diagnosis = report["y"].diagnosis
    train = [i for i, label in enumerate(report.results[0].cases, 1) if "training=True" in label]
    evals = [i for i, label in enumerate(report.results[0].cases, 1) if "training=False" in label]
    assert diagnosis.startswith(f"forgot the 1/(1 − p) scale (cases {', '.join(map(str, train))})")
    assert f"; and dropped in eval mode (cases {', '.join(map(str, evals))})" in diagnosis


@pytest.mark.parametrize("fn, label", [
    (lambda x, p, u, g: g * (u >= p), "forgot the 1/(1 − p) scale"),
    (lambda x, p, u, g: g * (np.random.default_rng(0).random(g.shape) >= p) / (1 - p),
     "drew a new mask in backward"),
    (lambda x, p, u, g: g * (np.random.default_rng(0).uniform(size=g.shape) >= p) / (1 - p),
     "drew a new mask in backward"),
    (lambda x, p, u, g: g, "forgot the mask"),
])
def test_dropout_backward_mistakes_are_named(fn, label):
    diagnosis = diagnosis_of(fn, "dropout_backward", "dx")
    assert diagnosis.startswith(label)
    assert "; or" not in diagnosis


def test_a_new_mask_that_happens_to_match_is_not_a_mistake():
    # the test behind "drew a new mask" rejects the right answer itself
    x, p, u, g = case("dropout_backward", (4, 5))
    mistake = next(m for m in EXERCISES["dropout_backward"].mistakes
                   if m.label == "drew a new mask in backward")
    test = mistake.compute(x, p, u, g)
    assert not test(g * (u >= p) / (1 - p))
    assert test(g * (u[::-1] >= p) / (1 - p)) or np.array_equal(u[::-1] >= p, u >= p)
    assert not test(g * (u >= p))  # the scale must be right for this diagnosis


# ----- every named mistake changes the numbers, for any shape ----------------------------------
@given(N=st.integers(3, 8), F=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_every_batchnorm_dx_mistake_differs_from_the_answer(N, F, seed):
    """Each planted mistake gives other numbers than the right dx: none can pass unnoticed."""
    ex = EXERCISES["batchnorm_backward"]
    args = case("batchnorm_backward", (N, F), seed)
    dx = ex.reference(*args)[0]
    for mistake in ex.mistakes:
        wrong = mistake.compute(*args)[0]
        assert wrong.shape == dx.shape and not np.allclose(wrong, dx, rtol=1e-6, atol=0), \
            mistake.label


@given(N=st.integers(3, 8), F=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_batchnorm_step_by_step_passes_and_mean_as_constant_is_named_for_any_shape(N, F, seed):
    shapes = [(N, F)]
    assert check(batchnorm_backward_step_by_step, "batchnorm_backward", shapes=shapes,
                 seed=seed).passed

    def attempt(x, gamma, beta, running_mean, running_var, eps, grad_out):
        return bn_backward(x, gamma, eps, grad_out, through_mean=False)
    assert diagnosis_of(attempt, "batchnorm_backward", "dx", shapes=shapes,
                        seed=seed).startswith("treated the batch mean as a constant")


@given(N=st.integers(1, 6), D=st.integers(2, 8), seed=st.integers(0, 10_000))
def test_dropout_answers_for_any_shape(N, D, seed):
    shapes = [(N, D)]
    assert check(dropout_backward_where, "dropout_backward", shapes=shapes, seed=seed).passed
    assert diagnosis_of(lambda x, p, u, g: g * (u >= p), "dropout_backward", "dx",
                        shapes=shapes, seed=seed).startswith("forgot the 1/(1 − p) scale")
    assert check(dropout_forward_where, "dropout_forward", shapes=[(N, D, True), (N, D, False)],
                 seed=seed).passed
