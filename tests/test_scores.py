"""Scores and weights against finite differences of log densities written with scipy."""
import numpy as np
import pytest
import sympy as sp
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from cfg_distortion import _generated as G
from cfg_distortion.theory import scores

# sympy derivations, built once per process: with the other symbolic tests on one pytest-xdist worker
pytestmark = pytest.mark.xdist_group("sympy")


def _log_mixture(x, mus, a, Gamma):
    return logsumexp([multivariate_normal(a * mu, Gamma * np.eye(len(x))).logpdf(x) for mu in mus]) - np.log(len(mus))


def _fd_grad(f, x, h=1e-5):
    e = np.eye(len(x))
    return np.array([(f(x + h * e[i]) - f(x - h * e[i])) / (2 * h) for i in range(len(x))])


@pytest.mark.parametrize("omega", [-0.5, 0.0, 3.0])
def test_guided_score_matches_finite_difference(omega):
    rng = np.random.default_rng(1)
    d, K, a, Gamma = 4, 7, 0.6, 0.9
    mus = rng.standard_normal((K, d))
    x = rng.standard_normal(d)
    logp = lambda y: (1 + omega) * _log_mixture(y, mus[:1], a, Gamma) - omega * _log_mixture(y, mus, a, Gamma)  # noqa
    logits = G.class_logit(mus @ x, (mus**2).sum(1), a, Gamma)
    w = np.exp(logits - logsumexp(logits))
    score = G.score_coef_x(a, Gamma) * x + G.guided_coef_target(a, Gamma, omega) * mus[0] \
        + G.guided_coef_post(a, Gamma, omega) * (w @ mus)
    # central difference error h^2 |f'''| / 6 ~ 1e-10 plus rounding eps |f| / h ~ 1e-10
    np.testing.assert_allclose(score, _fd_grad(logp, x), atol=1e-7)


def test_posterior_weights_are_bayes_rule():
    """softmax(class_logit) equals p(x|k) / sum_j p(x|j) computed from the densities."""
    rng = np.random.default_rng(2)
    d, K, a, Gamma = 3, 5, 0.8, 0.5
    mus = rng.standard_normal((K, d))
    x = rng.standard_normal(d)
    dens = np.array([multivariate_normal(a * mu, Gamma * np.eye(d)).pdf(x) for mu in mus])
    logits = G.class_logit(mus @ x, (mus**2).sum(1), a, Gamma)
    np.testing.assert_allclose(np.exp(logits - logsumexp(logits)), dens / dens.sum(), rtol=1e-12)


def test_mixture_gradient_is_posterior_average():
    """sympy's derivative of log sum_k exp(l_k) is sum_k w_k dl_k with softmax weights."""
    expr = scores.mixture_score_structure()
    num, den = sp.fraction(expr)
    assert isinstance(num, sp.Sum) and isinstance(den, sp.Sum)
    summand = num.function
    assert summand.has(sp.Derivative) and summand.has(sp.exp)
    assert sp.simplify(summand / den.function).has(sp.Derivative)


def test_guidance_leaves_the_coefficient_of_x_alone():
    c = scores.guided_score_coefficients()
    cx, cmu = scores.score_coefficients()
    assert sp.simplify(c["coef_x"] - cx) == 0
    omega = sp.Symbol("omega", real=True)
    # weights of mu_c and of the posterior mean sum to the class coefficient (mass conservation)
    assert sp.simplify(c["coef_target"] + c["coef_post"] - cmu) == 0
    assert sp.simplify(c["coef_target"].subs(omega, 0) - cmu) == 0
