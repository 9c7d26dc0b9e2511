"""The real-vs-generated detector as one package: its inference code and its shipped weights.

- ``model``: ``Detector`` (load, predict, explain), the model names and where their weights live;
- ``clip_encoder``: the CLIP image tower's view and ONNX call (the default model's features);
- ``crops``, ``features``, ``cues``: the ``fast`` model's native-resolution windows and features;
- ``head``: the linear head, calibration and family head both models share;
- ``occlusion``: the heat map ``explain`` draws for a model without gradients;
- ``weights/clip``, ``weights/fast``: each model's ``config.json``, ``head.npz`` and ``calibration.npz``.
Training and fitting live in ``genscope.train``; ``MODEL_CARD.md`` has the figures.
"""

from genscope.models.detector.model import (
    DEFAULT,
    DEFAULT_MODEL,
    MODELS,
    Detector,
    calibration,
    encoder_file,
    ensure_model,
    model_config,
    model_dir,
    open_rgb,
    verdict,
    view_side,
)

__all__ = ["DEFAULT", "DEFAULT_MODEL", "MODELS", "Detector", "calibration", "encoder_file", "ensure_model",
           "model_config", "model_dir", "open_rgb", "verdict", "view_side"]
