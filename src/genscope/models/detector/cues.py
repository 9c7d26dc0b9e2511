"""Hand-made residual cues that transfer across generators, computed on the detector's windows.

Up-sampling layers in decoders leave correlations between neighbouring pixels (NPR, CVPR 2024) and
periodic peaks in the spectrum; camera noise differs from synthesis noise in its cross-channel
correlation and tails. Every cue is invariant to where the window sits on the pixel grid (periodic
profiles enter through the magnitude of their DFT), so a JPEG block grid at an unknown offset in a
user's file reads the same as the aligned grid of the training re-encodes.
"""

from __future__ import annotations

import functools

import numpy as np

N_RADIAL = 12


def _luma(batch: np.ndarray) -> np.ndarray:
    return batch.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _box3_sum(x: np.ndarray) -> np.ndarray:
    """3x3 sum over the last two axes, edges replicated (dtype kept: int16 is exact for uint8 input)."""
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], mode="edge")
    rows = p[..., :-2, :] + p[..., 1:-1, :] + p[..., 2:, :]
    return rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]


def _periodic(prof: np.ndarray) -> np.ndarray:
    """Harmonics 1..4 of the period-8 fold of a ``(n, L)`` profile, relative to its mean."""
    L = prof.shape[1] // 8 * 8
    fold = prof[:, :L].reshape(len(prof), -1, 8).mean(axis=1)
    return np.abs(np.fft.rfft(fold, axis=1))[:, 1:5] / (fold.mean(axis=1, keepdims=True) + 1e-6)


def _parity(prof: np.ndarray) -> np.ndarray:
    """Log ratio of even to odd positions of a neighbour-difference profile."""
    return np.log((prof[:, 0::2].mean(1) + 1e-3) / (prof[:, 1::2].mean(1) + 1e-3))


@functools.lru_cache(maxsize=8)
def _rings(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot ring membership ``(h * (w // 2 + 1), N_RADIAL)`` of the rfft2 grid, and the ring sizes."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    ring = np.minimum((np.sqrt(fx**2 + fy**2) / 0.5 * N_RADIAL).astype(int), N_RADIAL - 1).ravel()
    onehot = np.eye(N_RADIAL)[ring]
    return onehot, onehot.sum(axis=0)


def _radial_spectrum(res: np.ndarray) -> np.ndarray:
    """Log power of the residual in ``N_RADIAL`` rings, minus its mean (scale-free shape)."""
    n, h, w = res.shape
    spec = np.fft.rfft2(res)
    power = (spec.real**2 + spec.imag**2).reshape(n, -1)
    onehot, counts = _rings(h, w)
    logp = np.log(power @ onehot / counts + 1e-6)  # ring sums as one matmul instead of a bincount per window
    return logp - logp.mean(axis=1, keepdims=True)


def residual_cues(batch: np.ndarray) -> np.ndarray:
    """``(n, H, W, 3)`` uint8 windows (H, W even) → ``(n, D)`` float32 cues."""
    n = len(batch)
    y = _luma(batch)
    # NPR: residual against the nearest-neighbour 2x down-up copy, per position in the 2x2 cell
    corner = y[:, 0::2, 0::2]
    npr = np.stack([np.abs(y[:, dy::2, dx::2] - corner).mean(axis=(1, 2)) for dy, dx in ((0, 1), (1, 0), (1, 1))],
                   axis=1)
    col = np.abs(np.diff(y, axis=2)).mean(axis=1)  # (n, w-1): mean |horizontal difference| per column
    row = np.abs(np.diff(y, axis=1)).mean(axis=2)
    scale = col.mean(axis=1, keepdims=True) + 1e-6
    # within-cell vs across-cell differences: 2x up-sampling makes them unequal
    grid = np.concatenate([np.log(npr / scale + 1e-3), _parity(col)[:, None], _parity(row)[:, None],
                           _periodic(col), _periodic(row)], axis=1)

    # colour noise residual against the 3x3 mean; integer maths is exact and several times faster
    # (statistics of 9x the residual, rescaled at the end, save a full-size division)
    rgb = np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.int16)
    flat = (9 * rgb - _box3_sum(rgb)).reshape(n, 3, -1).astype(np.float32)
    flat -= flat.mean(axis=2, keepdims=True)
    sq = flat * flat
    std = np.sqrt(sq.mean(axis=2)) / 9.0 + 1e-3
    corr = np.matmul(flat, flat.transpose(0, 2, 1))[:, [0, 1, 0], [1, 2, 2]] / (81.0 * flat.shape[2])
    corr /= std[:, [0, 1, 0]] * std[:, [1, 2, 2]]
    # a flat window has no noise at all: floor it so the log stays finite (real images are far above)
    kurt = np.log(np.maximum((sq * sq).mean(axis=2) / 9.0**4 / std**4, 1e-12))
    noise = np.concatenate([np.log(std), corr, kurt], axis=1)
    spectrum = _radial_spectrum(y - _box3_sum(y) / 9.0)
    return np.concatenate([grid, noise, spectrum], axis=1).astype(np.float32)
