"""Fitting the detector's NumPy heads: weighted logistic and softmax regression (Adam) and Platt scaling
(Newton). NumPy only, so leave-one-source-out evaluation refits a head without torch."""

from __future__ import annotations

import numpy as np

from genscope.models.detector.head import sigmoid, softmax


def _adam(grad_fn, params: list[np.ndarray], iters: int, lr: float) -> list[np.ndarray]:
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, iters + 1):
        for i, g in enumerate(grad_fn(params)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            params[i] = params[i] - lr * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-8)
    return params


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float,
                 iters: int = 400, lr: float = 0.02) -> tuple[np.ndarray, float]:
    """Weighted L2-regularised logistic regression on standardised ``x``; returns ``(coef, bias)``."""
    w = weight / weight.sum()

    def grad(p):
        r = (sigmoid(x @ p[0] + p[1][0]) - y) * w
        return [x.T @ r + l2 * p[0], np.array([r.sum()])]

    coef, bias = _adam(grad, [np.zeros(x.shape[1]), np.zeros(1)], iters, lr)
    return coef, float(bias[0])


def fit_softmax(x: np.ndarray, y: np.ndarray, n_classes: int, weight: np.ndarray, l2: float,
                iters: int = 400, lr: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Weighted multinomial logistic regression; returns ``(W (D, C), b (C,))``."""
    w = (weight / weight.sum())[:, None]
    onehot = np.eye(n_classes)[y]

    def grad(p):
        r = (softmax(x @ p[0] + p[1]) - onehot) * w
        return [x.T @ r + l2 * p[0], r.sum(axis=0)]

    coef, bias = _adam(grad, [np.zeros((x.shape[1], n_classes)), np.zeros(n_classes)], iters, lr)
    return coef, bias


def _log_loss(z: np.ndarray, y: np.ndarray) -> float:
    return float((np.logaddexp(0.0, z) - y * z).sum())


def fit_platt(logit: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``p = sigmoid(a * logit + b)`` fitted by Newton's method with step halving on the log-loss
    (a plain Newton step diverges when the start is far off, e.g. on over-confident logits)."""
    a, b = 1.0, 0.0
    loss = _log_loss(a * logit + b, y)
    for _ in range(100):
        p = sigmoid(a * logit + b)
        g = np.array([((p - y) * logit).sum(), (p - y).sum()])
        s = p * (1 - p) + 1e-9
        sl = (s * logit).sum()
        h = np.array([[(s * logit**2).sum(), sl], [sl, s.sum()]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(h, g)
        t = 1.0
        while t > 1e-6 and _log_loss((a - t * step[0]) * logit + b - t * step[1], y) > loss:
            t /= 2
        a, b = a - t * step[0], b - t * step[1]
        new_loss = _log_loss(a * logit + b, y)
        if loss - new_loss < 1e-10 * max(1.0, loss):
            break
        loss = new_loss
    return float(a), float(b)
