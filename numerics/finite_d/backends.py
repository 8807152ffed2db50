"""Array backends of the posterior kernel: which engine computes the tiles.

- ``numpy`` (default, always available): :class:`~.posterior.MixturePosterior`, BLAS tiles
  on one thread per core.
- ``numba`` (extra ``[fast]``): the same tiling, but each float32 tile is one fused loop
  (logits -> clamp -> exp -> weighted sums) that never writes the logit tile to memory and
  has no second matmul (:mod:`._fused`). Float64 calls (precision float64, auto's float64
  steps, the denormal guard's recomputation) stay on numpy.
- ``torch`` (extra ``[gpu]``): the tiles as torch matmuls on ``torch_device()`` (CUDA when
  a GPU is visible, else the CPU with torch's own threads); the centroid rows live on the
  device once, the state and the float64 sums on the host. The same code runs on CPU and GPU.

:func:`make_kernel` is the one entry point; every backend has the interface of
:class:`~.posterior.MixturePosterior` (``moments``, ``posterior_mean``, ``denoisers``,
``max_logit``, ``logits``) and the same precision rules, and agrees with numpy to the
precision's rounding (tests).
"""
from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

import numpy as np

from cfg_distortion.finite_d._blas import cores, single_threaded_blas
from cfg_distortion.finite_d.posterior import (FLOAT32_FLOOR, MAX_CHUNK, MixturePosterior, centroid_rows,
                                               check_precision)

BACKENDS = ("numpy", "numba", "torch")
_EXTRA = {"numba": ("numba", "fast"), "torch": ("torch", "gpu")}


def available_backends() -> tuple[str, ...]:
    """The backends whose engine is installed."""
    return tuple(b for b in BACKENDS if b == "numpy" or importlib.util.find_spec(_EXTRA[b][0]) is not None)


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)} (got {backend!r})")
    if backend not in available_backends():
        module, extra = _EXTRA[backend]
        raise ValueError(f"backend {backend!r} needs {module}, which is not installed: "
                         f"pip install \"cfg-distortion[{extra}]\"")
    return backend


def make_kernel(backend: str, rows, pool=None, workers=None, precision: str = "auto"):
    """A posterior kernel over the centroid rows (``posterior.centroid_rows``) on ``backend``."""
    check_backend(backend)
    cls = {"numpy": MixturePosterior, "numba": NumbaPosterior, "torch": TorchPosterior}[backend]
    return cls(rows, pool, workers, precision)


class NumbaPosterior(MixturePosterior):
    """Float32 tiles by the fused numba loop (:func:`._fused.fused_sums`); the rest as numpy."""

    backend = "numba"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from cfg_distortion.finite_d import _fused

        self._fused = _fused
        self._columns32 = None

    @property
    def columns32(self) -> np.ndarray:
        """The centroid rows transposed ((d + 2) x K, float32): each coordinate contiguous over classes."""
        if self._columns32 is None:
            self._columns32 = np.ascontiguousarray(self.rows.T, dtype=np.float32)
        return self._columns32

    def _tile_sums32(self, cols, lo, hi, chunk):
        acc = np.zeros((self.d + 1, cols.shape[1]))
        self._fused.fused_sums(self.columns32, np.ascontiguousarray(cols), lo, hi, acc)
        return acc


def torch_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchPosterior(MixturePosterior):
    """The tiles as torch matmuls on ``torch_device()``; the max pass and the guard on numpy."""

    backend = "torch"
    CHUNK_ELEMENTS = {"cpu": 1 << 22, "cuda": 1 << 26}  # logits per torch tile

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        import torch

        self._torch = torch
        self.device = torch_device()
        self._on_device = {}

    def _rows_on_device(self, dtype):
        if dtype not in self._on_device:
            self._on_device[dtype] = self._torch.as_tensor(self.rows, dtype=dtype, device=self.device)
        return self._on_device[dtype]

    def _reduce(self, kind, X, c_xmu, c_mumu, shift):
        if kind == "max":
            return super()._reduce(kind, X, c_xmu, c_mumu, shift)
        torch = self._torch
        dtype = torch.float32 if kind == "sums32" else torch.float64
        rows = self._rows_on_device(dtype)
        d, n = self.d, X.shape[0]
        cols = torch.as_tensor(self._columns(X, c_xmu, c_mumu, shift, np.float64), dtype=dtype, device=self.device)
        chunk = min(MAX_CHUNK, max(256, self.CHUNK_ELEMENTS[self.device] // max(n, 1)))
        acc = torch.zeros((d + 1, n), dtype=torch.float64, device=self.device)
        for c in range(0, self.K, chunk):
            B = rows[c: c + chunk]
            L = B @ cols
            if kind == "sums32":
                L.clamp_(min=FLOAT32_FLOOR)
            L.exp_()
            acc += (B[:, : d + 1].T @ L).to(torch.float64)
        return acc.cpu().numpy()


@contextmanager
def posterior_kernel(mu: np.ndarray, precision: str = "auto", backend: str = "numpy"):
    """``with posterior_kernel(mu) as post:`` a kernel over the centroids ``mu`` (K x d) on all cores.

    Inside the block BLAS is single-threaded and the kernel's tiles run on one thread per core
    (where OpenBLAS cannot be controlled they run serially on a threaded BLAS). ``precision``:
    "auto" (float32 tiles where their rounding is negligible, see the module doc), "float32",
    "float64". ``backend``: one of :data:`BACKENDS`.
    """
    precision = check_precision(precision)
    rows = centroid_rows(np.asarray(mu, dtype=np.float64))
    with single_threaded_blas() as tiles_in_parallel:
        workers = cores() if tiles_in_parallel else 1
        with ThreadPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
            yield make_kernel(backend, rows, pool, workers, precision)
