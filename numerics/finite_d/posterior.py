"""Posterior class weights of the K-component mixture, in tiles: the simulator's kernel.

For samples x (n x d) at time t the class logits are l_k = c_xmu x . mu_k + c_mumu |mu_k|^2
(coefficients generated from ``theory.transition.logit_coefficients``). The kernel returns,
per sample, log sum_k e^{l_k} and the posterior mean centroid sum_k w_k mu_k, without ever
holding more than a (chunk x block) tile of logits: memory O(n x chunk + K x d).

How a tile is computed (two matmuls and one in-place exp, so the work is matmul-bound):
the centroids are stored once as rows [mu_k, 1, |mu_k|^2] and each sample block as columns
[c_xmu x, -shift, c_mumu], so ONE matmul gives the shifted logits of a chunk; ``exp`` runs
in place; a second matmul with the rows [mu_k, 1] gives sum e^{l - shift} mu_k and
sum e^{l - shift} together. The shift is the upper bound max_mu l = |x|^2/(2 Gamma)
(``theory.transition.logit_upper_bound``), so no exp can overflow and it is the same for
every chunk: partial sums over class ranges simply add, and tiles run on all cores. If
every term of a sample would underflow (sum < e^{-600}), that sample is recomputed with
its exact maximum logit as the shift (two passes).
"""
from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from cfg_distortion import _generated as G
from cfg_distortion.finite_d._blas import cores

TILE_ELEMENTS = 1 << 17  # logits per tile (1 MiB of float64: stays in a core's L2)
BLOCK_MAX = 256  # samples per block
TINY = math.exp(-600.0)  # below this a sum of exponentials has lost its precision

_local = threading.local()


def _buffer(shape: tuple[int, int]) -> np.ndarray:
    """A per-thread scratch array (reused across tiles; never shared between threads)."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.size < shape[0] * shape[1]:
        buf = _local.buf = np.empty(shape[0] * shape[1])
    return buf[: shape[0] * shape[1]].reshape(shape)


def centroid_rows(mu: np.ndarray) -> np.ndarray:
    """Rows [mu_k, 1, |mu_k|^2] (K x (d + 2)), the layout the kernel multiplies."""
    K, d = mu.shape
    rows = np.empty((K, d + 2))
    rows[:, :d] = mu
    rows[:, d] = 1.0
    rows[:, d + 1] = np.einsum("kd,kd->k", mu, mu)
    return rows


class MixturePosterior:
    """Chunked log-sum-exp and posterior mean over the centroids ``rows`` (see module doc).

    ``pool``: a thread pool to run tiles on (one thread per core, BLAS single-threaded by the
    caller); ``None`` runs them serially.
    """

    def __init__(self, rows: np.ndarray, pool: ThreadPoolExecutor | None = None, workers: int | None = None):
        self.rows = rows
        self.K, self.d = rows.shape[0], rows.shape[1] - 2
        self.pool = pool
        self.workers = workers or (cores() if pool is not None else 1)

    # ------------------------------------------------------------ tiling
    def _plan(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int]:
        nblocks = -(-n // BLOCK_MAX)
        nb = -(-n // nblocks)
        blocks = [(i, min(i + nb, n)) for i in range(0, n, nb)]
        chunk = max(256, TILE_ELEMENTS // nb)
        nseg = min(max(1, -(-4 * self.workers // len(blocks))) if self.pool else 1, -(-self.K // chunk))
        edges = np.linspace(0, self.K, nseg + 1).astype(int)
        segments = [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]
        return blocks, segments, chunk

    def _map(self, fn, items):
        if self.pool is None:
            return [fn(*it) for it in items]
        return list(self.pool.map(lambda it: fn(*it), items))

    def _columns(self, X: np.ndarray, c_xmu: float, c_mumu: float, shift: np.ndarray) -> np.ndarray:
        """Sample block as columns [c_xmu x, -shift, c_mumu] ((d + 2) x n)."""
        d = self.d
        cols = np.empty((d + 2, X.shape[0]))
        np.multiply(X.T, c_xmu, out=cols[:d])
        cols[d] = -shift
        cols[d + 1] = c_mumu
        return cols

    def _tile_sums(self, cols: np.ndarray, lo: int, hi: int, chunk: int) -> np.ndarray:
        """sum_k e^{l_k - shift} [mu_k, 1] over classes lo..hi ((d + 1) x block)."""
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
        blocks, segments, chunk = self._plan(X.shape[0])
        cols = [self._columns(X[lo:hi], c_xmu, c_mumu, shift[lo:hi]) for lo, hi in blocks]
        items = [(b, s) for b in range(len(blocks)) for s in segments]
        tile = self._tile_sums if kind == "sums" else self._tile_max
        parts = self._map(lambda b, s: tile(cols[b], s[0], s[1], chunk), items)
        out = [None] * len(blocks)
        for (b, _), part in zip(items, parts):
            out[b] = part if out[b] is None else (out[b] + part if kind == "sums" else np.maximum(out[b], part))
        return np.concatenate(out, axis=-1)

    # ------------------------------------------------------------ API
    def max_logit(self, X: np.ndarray, c_xmu: float, c_mumu: float) -> np.ndarray:
        """max_k l_k per sample (n,)."""
        return self._reduce("max", X, c_xmu, c_mumu, np.zeros(X.shape[0]))

    def moments(self, X: np.ndarray, a: float, Gamma: float) -> tuple[np.ndarray, np.ndarray]:
        """(log sum_k e^{l_k}, sum_k w_k mu_k) per sample: shapes (n,) and (n, d)."""
        c_xmu, c_mumu = float(G.logit_coef_xmu(a, Gamma)), float(G.logit_coef_mumu(a, Gamma))
        shift = G.logit_bound(np.einsum("nd,nd->n", X, X), a, Gamma)
        acc = self._reduce("sums", X, c_xmu, c_mumu, shift)
        lost = ~(acc[self.d] > TINY)
        if lost.any():  # every term underflowed: shift by the exact maximum instead
            shift[lost] = self.max_logit(X[lost], c_xmu, c_mumu)
            acc[:, lost] = self._reduce("sums", X[lost], c_xmu, c_mumu, shift[lost])
        total = acc[self.d]
        return shift + np.log(total), (acc[: self.d] / total).T

    def logits(self, X: np.ndarray, k: int, a: float, Gamma: float) -> np.ndarray:
        """l_k for one class k (n,)."""
        return G.class_logit(X @ self.rows[k, : self.d], self.rows[k, self.d + 1], a, Gamma)
