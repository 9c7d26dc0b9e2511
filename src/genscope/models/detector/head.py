"""The detector's heads in NumPy: standardisation, a linear real/generated head, a softmax family head
and Platt calibration, as inference applies them (``genscope.train.head_fit`` fits them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class Head:
    """Everything after the features: shipped as ``head.npz``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float
    platt_a: float
    platt_b: float
    family_coef: np.ndarray  # (D, C); C = 0 when no family labels
    family_bias: np.ndarray

    def standardise(self, feats: np.ndarray) -> np.ndarray:
        return (feats - self.mean) / self.scale

    def window_logits(self, feats: np.ndarray) -> np.ndarray:
        return self.standardise(feats) @ self.coef + self.bias

    def calibrate(self, logit: np.ndarray | float) -> np.ndarray:
        return sigmoid(self.platt_a * np.asarray(logit) + self.platt_b)

    def family_probs(self, feats: np.ndarray) -> np.ndarray:
        """Mean over windows of the family softmax: ``(C,)``, conditional on 'generated'."""
        if self.family_coef.shape[1] == 0:
            return np.zeros(0)
        return softmax(self.standardise(feats) @ self.family_coef + self.family_bias).mean(axis=0)

    def save(self, path) -> None:
        f32 = np.float32
        np.savez(path, mean=self.mean.astype(f32), scale=self.scale.astype(f32), coef=self.coef.astype(f32),
                 bias=self.bias, platt_a=self.platt_a, platt_b=self.platt_b,
                 family_coef=self.family_coef.astype(f32), family_bias=self.family_bias.astype(f32))

    @classmethod
    def load(cls, path) -> Head:
        with np.load(path) as z:
            return cls(mean=z["mean"], scale=z["scale"], coef=z["coef"], bias=float(z["bias"]),
                       platt_a=float(z["platt_a"]), platt_b=float(z["platt_b"]),
                       family_coef=z["family_coef"], family_bias=z["family_bias"])
