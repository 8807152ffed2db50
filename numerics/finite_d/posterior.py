"""Posterior class weights of the K-component mixture, in tiles: the simulator's kernel.

For samples x (n x d) at time t the class logits are l_k = c_xmu x . mu_k + c_mumu |mu_k|^2
(coefficients generated from ``theory.transition.logit_coefficients``). The kernel returns,
per sample, log sum_k e^{l_k} and the posterior mean centroid sum_k w_k mu_k, without ever
holding more than a (chunk x block) tile of logits: memory O(n x chunk + K x d).

Interface for samplers and guidance rules (stable; everything else here is internal):

- :func:`cfg_distortion.finite_d.backends.posterior_kernel` (a context manager, beside the
  backends it chooses from) builds a kernel over the centroids ``mu`` with a chosen
  ``precision`` and ``backend`` and runs its tiles on all cores;
- :meth:`MixturePosterior.posterior_mean` gives, in ONE pass over the K classes,
  m_post = sum_k w_k(x, t) mu_k (the posterior mean centroid of the class mixture) and
  log sum_k e^{l_k};
- :meth:`MixturePosterior.denoisers` turns that pass into the two posterior means of the
  clean sample, D_c(x, t) = E[x0 | x_t = x, c] and D_u(x, t) = E[x0 | x_t = x]
  (coefficients generated from ``theory.transition.denoiser_coefficients``).

How a tile is computed (two matmuls and one in-place exp, so the work is matmul-bound):
the centroids are stored once as rows [mu_k, 1, |mu_k|^2] and each sample block as columns
[c_xmu x, -shift, c_mumu], so ONE matmul gives the shifted logits of a chunk; ``exp`` runs
in place; a second matmul with the rows [mu_k, 1] gives sum e^{l - shift} mu_k and
sum e^{l - shift} together. The shift derives from the upper bound max_mu l = |x|^2/(2 Gamma)
(``theory.transition.logit_upper_bound``), so no exp can overflow and it is the same for
every chunk: partial sums over class ranges simply add, and tiles run on all cores.

Precision. ``float64`` tiles shift by the bound itself; a sample whose every term would
underflow (sum < e^{-600}) is recomputed with its exact maximum logit as the shift.
``float32`` tiles (logits, exp and the tile's weighted sums in float32, twice the matmul
and exp rate) add the partial sums of the tiles in float64, and keep the shift, the
log-sum-exp and the state in float64. Float32 has 88 nats of range, so:

- the shift is the bound minus ``headroom`` (~70 nats: the largest e^{l - shift} times
  MAX_CHUNK classes times max |mu_kj| still fits a float32), which moves the underflow limit
  70 nats further down than the bound alone would;
- shifted logits are clamped at ``FLOAT32_FLOOR`` = -87 before the exp: float32 exp of
  inputs between about -103 and -87 returns denormals, which slow exp ~16x and the next
  matmul ~100x. The clamp adds at most K e^{-87} to a sum;
- a sample whose float32 sum is below ``1e7 K e^{-87}`` (so that clamped terms could weigh
  more than 1e-7 of it) is recomputed in float64 with its exact maximum logit as the shift.

``precision="auto"`` (the simulator's default) uses float32 whenever the float32 rounding
of the logits is negligible and float64 otherwise: the rounding error of a logit is about
eps32 times the size of the terms that cancel in it (c_xmu |x| |mu_k|, |c_mumu| |mu_k|^2
and the shift, all of the order of the bound |x|^2/(2 Gamma)), and a logit error delta
moves the weights by a relative delta. Auto picks float32 when that estimate is below
``AUTO_LOGIT_ERROR`` = 1e-4 (at sigma2 = 1, Gamma >= 1 and the bound is a few tens: always
float32; at small sigma2 the last steps near t = 0 run in float64).
"""
from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.finite_d._blas import cores

TILE_ELEMENTS = 1 << 17  # logits per tile (1 MiB of float64, 512 KiB of float32: stays in a core's L2)
BLOCK_MAX = 256  # samples per block
MAX_CHUNK = 1 << 20  # no backend sums more classes than this in one float32 tile (sets the headroom)
TINY = math.exp(-600.0)  # below this a float64 sum of exponentials has lost its precision
FLOAT32_FLOOR = -87.0  # e^{-87} = 1.6e-38 is still a normal float32 (smallest normal 1.18e-38)
FLOAT32_GUARD = 1.0e7  # a float32 sum must exceed this many times the clamp's worst bias K e^{FLOOR}
EPS32 = float(np.finfo(np.float32).eps)
AUTO_LOGIT_ERROR = 1.0e-4  # auto precision: float32 while eps32 x (logit scale) stays below this
PRECISIONS = ("auto", "float32", "float64")

_local = threading.local()


def _buffer(shape: tuple[int, int], dtype=np.float64) -> np.ndarray:
    """A per-thread scratch array (reused across tiles; never shared between threads)."""
    key = f"buf_{np.dtype(dtype).name}"
    buf = getattr(_local, key, None)
    size = shape[0] * shape[1]
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        setattr(_local, key, buf)
    return buf[:size].reshape(shape)


def centroid_rows(mu: np.ndarray) -> np.ndarray:
    """Rows [mu_k, 1, |mu_k|^2] (K x (d + 2)), the layout the kernel multiplies."""
    K, d = mu.shape
    rows = np.empty((K, d + 2))
    rows[:, :d] = mu
    rows[:, d] = 1.0
    rows[:, d + 1] = np.einsum("kd,kd->k", mu, mu)
    return rows


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} (got {precision!r})")
    return precision


class MixturePosterior:
    """Chunked log-sum-exp and posterior mean over the centroids ``rows`` (see module doc).

    ``pool``: a thread pool to run tiles on (one thread per core, BLAS single-threaded by the
    caller); ``None`` runs them serially. ``precision``: "float64", "float32" or "auto".
    """

    def __init__(self, rows: np.ndarray, pool: ThreadPoolExecutor | None = None, workers: int | None = None,
                 precision: str = "float64"):
        self.rows = rows
        self.K, self.d = rows.shape[0], rows.shape[1] - 2
        self.pool = pool
        self.workers = workers or (cores() if pool is not None else 1)
        self.precision = check_precision(precision)
        self._rows32 = None
        self._headroom = None
        self._guard = FLOAT32_GUARD * self.K * math.exp(FLOAT32_FLOOR)
        self.float32_calls = self.float64_calls = self.float64_samples = 0  # what the kernel did (diagnostics)

    @property
    def rows32(self) -> np.ndarray:
        if self._rows32 is None:
            self._rows32 = self.rows.astype(np.float32)
        return self._rows32

    # ------------------------------------------------------------ tiling
    def _plan(self, n: int, itemsize: int = 8) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int]:
        nblocks = -(-n // BLOCK_MAX)
        nb = -(-n // nblocks)
        blocks = [(i, min(i + nb, n)) for i in range(0, n, nb)]
        chunk = min(MAX_CHUNK, max(256, TILE_ELEMENTS * (8 // itemsize) // nb))
        nseg = min(max(1, -(-4 * self.workers // len(blocks))) if self.pool else 1, -(-self.K // chunk))
        edges = np.linspace(0, self.K, nseg + 1).astype(int)
        segments = [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]
        return blocks, segments, chunk

    def _map(self, fn, items):
        if self.pool is None:
            return [fn(*it) for it in items]
        return list(self.pool.map(lambda it: fn(*it), items))

    def _columns(self, X: np.ndarray, c_xmu: float, c_mumu: float, shift: np.ndarray, dtype=np.float64):
        """Sample block as columns [c_xmu x, -shift, c_mumu] ((d + 2) x n)."""
        d = self.d
        cols = np.empty((d + 2, X.shape[0]), dtype=dtype)
        np.multiply(X.T, c_xmu, out=cols[:d])
        cols[d] = -shift
        cols[d + 1] = c_mumu
        return cols

    def _tile_sums(self, cols: np.ndarray, lo: int, hi: int, chunk: int) -> np.ndarray:
        """sum_k e^{l_k - shift} [mu_k, 1] over classes lo..hi ((d + 1) x block), float64."""
        d, nb = self.d, cols.shape[1]
        acc = np.zeros((d + 1, nb))
        part = np.empty((d + 1, nb))
        for c in range(lo, hi, chunk):
            B = self.rows[c: min(c + chunk, hi)]
            L = _buffer((B.shape[0], nb))
            np.matmul(B, cols, out=L)
            np.exp(L, out=L)
            np.matmul(B[:, : d + 1].T, L, out=part)
            acc += part
        return acc

    def _tile_sums32(self, cols: np.ndarray, lo: int, hi: int, chunk: int) -> np.ndarray:
        """Float32 tile, float64 accumulation across chunks; shifted logits clamped at FLOAT32_FLOOR."""
        d, nb = self.d, cols.shape[1]
        rows = self.rows32
        acc = np.zeros((d + 1, nb))
        part = np.empty((d + 1, nb), dtype=np.float32)
        for c in range(lo, hi, chunk):
            B = rows[c: min(c + chunk, hi)]
            L = _buffer((B.shape[0], nb), np.float32)
            np.matmul(B, cols, out=L)
            np.maximum(L, FLOAT32_FLOOR, out=L)  # denormal guard
            np.exp(L, out=L)
            np.matmul(B[:, : d + 1].T, L, out=part)
            acc += part
        return acc

    def _tile_max(self, cols: np.ndarray, lo: int, hi: int, chunk: int) -> np.ndarray:
        """max_k (l_k - shift) over classes lo..hi (block,)."""
        best = np.full(cols.shape[1], -np.inf)
        for c in range(lo, hi, chunk):
            B = self.rows[c: min(c + chunk, hi)]
            L = _buffer((B.shape[0], cols.shape[1]))
            np.matmul(B, cols, out=L)
            np.maximum(best, L.max(axis=0), out=best)
        return best

    def _reduce(self, kind: str, X, c_xmu, c_mumu, shift):
        single = kind == "sums32"
        blocks, segments, chunk = self._plan(X.shape[0], 4 if single else 8)
        dtype = np.float32 if single else np.float64
        cols = [self._columns(X[lo:hi], c_xmu, c_mumu, shift[lo:hi], dtype) for lo, hi in blocks]
        items = [(b, s) for b in range(len(blocks)) for s in segments]
        tile = {"sums": self._tile_sums, "sums32": self._tile_sums32, "max": self._tile_max}[kind]
        parts = self._map(lambda b, s: tile(cols[b], s[0], s[1], chunk), items)
        out = [None] * len(blocks)
        for (b, _), part in zip(items, parts):
            out[b] = part if out[b] is None else (np.maximum(out[b], part) if kind == "max" else out[b] + part)
        return np.concatenate(out, axis=-1)

    def headroom(self) -> float:
        """Nats the float32 shift sits below the bound: chunk x e^{headroom} x max|row| < FLT_MAX/4."""
        if self._headroom is None:
            chunk = MAX_CHUNK
            big = max(1.0, float(np.abs(self.rows[:, : self.d]).max(initial=1.0)))
            self._headroom = math.log(float(np.finfo(np.float32).max) / 4) - math.log(chunk) - math.log(big)
        return self._headroom

    def use_float32(self, bound: np.ndarray) -> bool:
        """Whether this call runs in float32 (see the module doc on ``precision``)."""
        if self.precision != "auto":
            return self.precision == "float32"
        scale = 3.0 * float(np.max(np.abs(bound), initial=0.0)) + 1.0
        return EPS32 * scale <= AUTO_LOGIT_ERROR

    # ------------------------------------------------------------ API
    def max_logit(self, X: np.ndarray, c_xmu: float, c_mumu: float) -> np.ndarray:
        """max_k l_k per sample (n,)."""
        return self._reduce("max", X, c_xmu, c_mumu, np.zeros(X.shape[0]))

    def _sums64(self, X, c_xmu, c_mumu, shift):
        acc = self._reduce("sums", X, c_xmu, c_mumu, shift)
        lost = ~(acc[self.d] > TINY)
        if lost.any():  # every term underflowed: shift by the exact maximum instead
            shift[lost] = self.max_logit(X[lost], c_xmu, c_mumu)
            acc[:, lost] = self._reduce("sums", X[lost], c_xmu, c_mumu, shift[lost])
        return acc, shift

    def moments(self, X: np.ndarray, a: float, Gamma: float) -> tuple[np.ndarray, np.ndarray]:
        """(log sum_k e^{l_k}, sum_k w_k mu_k) per sample: shapes (n,) and (n, d)."""
        X = np.asarray(X, dtype=np.float64)
        c_xmu, c_mumu = float(G.logit_coef_xmu(a, Gamma)), float(G.logit_coef_mumu(a, Gamma))
        bound = np.asarray(G.logit_bound(np.einsum("nd,nd->n", X, X), a, Gamma), dtype=np.float64)
        if self.use_float32(bound):
            self.float32_calls += 1
            shift = (bound - self.headroom()).astype(np.float32).astype(np.float64)  # the tile's own shift
            acc = self._reduce("sums32", X, c_xmu, c_mumu, shift)
            lost = ~(acc[self.d] > self._guard)
            if lost.any():  # clamped or underflowed terms could matter: float64 with the exact maximum
                self.float64_samples += int(lost.sum())
                shift[lost] = self.max_logit(X[lost], c_xmu, c_mumu)
                acc[:, lost], shift[lost] = self._sums64(X[lost], c_xmu, c_mumu, shift[lost])
        else:
            self.float64_calls += 1
            acc, shift = self._sums64(X, c_xmu, c_mumu, bound.copy())
        total = acc[self.d]
        return shift + np.log(total), (acc[: self.d] / total).T

    def posterior_mean(self, X: np.ndarray, a: float, Gamma: float) -> tuple[np.ndarray, np.ndarray]:
        """(m_post, log_norm): m_post = sum_k w_k(x, t) mu_k (n x d), log_norm = log sum_k e^{l_k} (n,).

        One pass over the K classes; ``a`` = a_t, ``Gamma`` = Gamma_t = a_t^2 sigma2 + b_t^2.
        """
        lse, m_post = self.moments(X, a, Gamma)
        return m_post, lse

    def denoisers(self, X: np.ndarray, mu_c: np.ndarray, a: float, Gamma: float,
                  sigma2: float) -> tuple[np.ndarray, np.ndarray]:
        """(D_c, D_u), each n x d: E[x0 | x_t = x, class c] and E[x0 | x_t = x] under the mixture.

        D = coef_x x + coef_mu M with M = mu_c (conditional) or m_post (unconditional), one kernel
        pass. The scores follow by Tweedie: grad log p_t = (a D - x)/b^2.
        """
        m_post, _ = self.posterior_mean(X, a, Gamma)
        cx, cmu = float(G.denoiser_coef_x(a, Gamma, sigma2)), float(G.denoiser_coef_mu(a, Gamma, sigma2))
        D_u = cx * np.asarray(X, dtype=np.float64) + cmu * m_post
        D_c = cx * np.asarray(X, dtype=np.float64) + cmu * np.asarray(mu_c, dtype=np.float64)
        return D_c, D_u

    def logits(self, X: np.ndarray, k: int, a: float, Gamma: float) -> np.ndarray:
        """l_k for one class k (n,)."""
        return G.class_logit(X @ self.rows[k, : self.d], self.rows[k, self.d + 1], a, Gamma)
