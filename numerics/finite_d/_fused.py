"""The fused float32 tile of the numba backend: logits -> clamp -> exp -> weighted sums in one loop.

Why numba: it compiles this loop with LLVM to AVX-512/AVX2 code for the machine it runs on,
is a well-kept, pip-installable JIT (wheels for every platform numpy has), and needs no C
toolchain at install time. Where it is absent the numpy backend is used.

For each block of four samples and each chunk of ``CHUNK`` classes (whose (d + 2) x CHUNK
float32 centroid columns stay in L1), the loop computes the shifted logits of the chunk
(vectorised over classes, each centroid coordinate loaded once for four samples), clamps
them at FLOAT32_FLOOR (no denormals), takes exp with a Cephes-style float32 polynomial
(range reduction by ln 2, degree-7 polynomial, 2^n by building the exponent bits: within
2 ulp, and vectorised, unlike a libm call), and adds e^{l} [mu_k, 1] into float32 chunk sums
that go into the float64 accumulator after each chunk. The logit tile never leaves L1 and
there is no second matmul with its poor (d + 1) x chunk x block shape.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from cfg_distortion.finite_d.posterior import FLOAT32_FLOOR

CHUNK = 256
_LOG2E = np.float32(1.4426950408889634)
_C1, _C2 = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln 2 = C1 + C2 (C1 exact in float32)
_P = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
                                   1.6666665459e-1, 5.0000001201e-1))
_FLOOR = np.float32(FLOAT32_FLOOR)


@njit(nogil=True, fastmath=True, cache=True)
def _exp_inplace(l, pw, m):
    """l[:m] <- exp(max(l[:m], FLOOR)) in float32; pw is int32 scratch of the same length."""
    P0, P1, P2, P3, P4, P5 = _P
    for k in range(m):
        x = max(l[k], _FLOOR)
        n = np.floor(x * _LOG2E + np.float32(0.5))
        r = x - n * _C1 - n * _C2
        p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5
        l[k] = p * r * r + r + np.float32(1.0)
        pw[k] = (np.int32(n) + np.int32(127)) << 23
    scale = pw.view(np.float32)
    for k in range(m):
        l[k] *= scale[k]


@njit(nogil=True, fastmath=True, cache=True)
def fused_sums(M, cols, lo, hi, acc):
    """acc[:, i] += sum_{k in [lo, hi)} exp(max(l_ki, FLOOR)) [mu_k, 1], l_ki = sum_j cols[j, i] M[j, k].

    M: (d + 2) x K float32 (centroid rows transposed); cols: (d + 2) x nb float32 (sample columns
    [c_xmu x, -shift, c_mumu]); acc: (d + 1) x nb float64.
    """
    D2, nb = cols.shape
    d1 = D2 - 1
    l0 = np.empty(CHUNK, np.float32)
    l1 = np.empty(CHUNK, np.float32)
    l2 = np.empty(CHUNK, np.float32)
    l3 = np.empty(CHUNK, np.float32)
    pw = np.empty(CHUNK, np.int32)
    for c0 in range(lo, hi, CHUNK):
        m = min(CHUNK, hi - c0)
        for i0 in range(0, nb, 4):
            i1, i2, i3 = min(i0 + 1, nb - 1), min(i0 + 2, nb - 1), min(i0 + 3, nb - 1)
            l0[:m] = 0
            l1[:m] = 0
            l2[:m] = 0
            l3[:m] = 0
            for j in range(D2):
                row = M[j, c0: c0 + m]
                a0, a1, a2, a3 = cols[j, i0], cols[j, i1], cols[j, i2], cols[j, i3]
                for k in range(m):
                    v = row[k]
                    l0[k] += a0 * v
                    l1[k] += a1 * v
                    l2[k] += a2 * v
                    l3[k] += a3 * v
            _exp_inplace(l0, pw, m)
            _exp_inplace(l1, pw, m)
            _exp_inplace(l2, pw, m)
            _exp_inplace(l3, pw, m)
            for j in range(d1):
                row = M[j, c0: c0 + m]
                s0 = s1 = s2 = s3 = np.float32(0.0)
                for k in range(m):
                    v = row[k]
                    s0 += l0[k] * v
                    s1 += l1[k] * v
                    s2 += l2[k] * v
                    s3 += l3[k] * v
                acc[j, i0] += s0
                if i0 + 1 < nb:
                    acc[j, i1] += s1
                if i0 + 2 < nb:
                    acc[j, i2] += s2
                if i0 + 3 < nb:
                    acc[j, i3] += s3
