"""Signals that misbehave on purpose, loaded by the engine tests as ``support_signals:Class``."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from genscope.signals import Sample, SignalError


class _Base:
    version: ClassVar[str] = "1"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([("value", pa.int64())])


class FlakySignal(_Base):
    """Raises for images whose path contains 'boom', SignalError for 'refuse', wrong type for 'badtype'."""

    name: ClassVar[str] = "flaky"

    def compute(self, batch: list[Sample]) -> list[dict[str, Any] | SignalError]:
        out: list[dict[str, Any] | SignalError] = []
        for sample in batch:
            if "boom" in Path(sample.path).name:
                raise RuntimeError("kaboom")
            if "refuse" in Path(sample.path).name:
                out.append(SignalError("flaky.refused", "refused on purpose"))
            elif "badtype" in Path(sample.path).name:
                out.append({"value": "not a number"})
            else:
                out.append({"value": sample.image.width})
        return out


class HangSignal(_Base):
    """Never returns for 'hang' images; kills its own process for 'crash' images."""

    name: ClassVar[str] = "hang"

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        for sample in batch:
            if "hang" in Path(sample.path).name:
                time.sleep(3600)
            if "crash" in Path(sample.path).name:
                os._exit(9)
        return [{"value": len(sample.data)} for sample in batch]


class SlowSignal(_Base):
    """Takes 40 ms per image, so a scan lasts long enough to be killed mid-way."""

    name: ClassVar[str] = "slow"

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        time.sleep(0.04 * len(batch))
        return [{"value": sample.image.height} for sample in batch]


class BrokenSignal(_Base):
    """Cannot start (a missing model, say): the scan must fail with one clear line."""

    name: ClassVar[str] = "broken"

    def __init__(self) -> None:
        raise FileNotFoundError("model weights not found at /nowhere/model.onnx")

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        raise AssertionError("never reached")


class RednessDetector:
    """Stands in for the detector with a known behaviour: the score is the image's mean red."""

    name: ClassVar[str] = "detector"
    version: ClassVar[str] = "test"
    needs_image: ClassVar[bool] = True
    schema: ClassVar[pa.Schema] = pa.schema([("ai_score", pa.float32()), ("threshold", pa.float32()),
                                             ("verdict", pa.string())])

    def compute(self, batch: list[Sample]) -> list[dict[str, Any]]:
        out = []
        for sample in batch:
            score = sum(sample.image.getchannel("R").resize((8, 8)).getdata()) / (64 * 255)
            out.append({"ai_score": score, "threshold": 0.5, "verdict": "generated" if score >= 0.5 else "real"})
        return out
