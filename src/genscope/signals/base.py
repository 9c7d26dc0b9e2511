"""The Signal protocol: how a per-image measurement plugs into a scan.

A signal is a pure function of a batch of samples (image bytes + decoded image), returning
flat typed columns. The engine prefixes every field with ``<name>.`` in the records and adds
``<name>.version`` and ``<name>.error`` columns by itself, so a signal never writes those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import pyarrow as pa
from PIL import Image

from genscope.errors import CodedError


@dataclass
class Sample:
    """One input as the signals see it.

    ``image`` is the decoded first frame, EXIF-orientation applied, converted to 8-bit RGB;
    it is ``None`` when decoding failed (only signals with ``needs_image = False`` see those).
    ``info`` holds facts the decoder read without extra work (original mode, format, the
    raw EXIF block, Pillow's ``info`` dict of text chunks, ICC presence, frame count).
    """

    path: str
    data: bytes
    image: Image.Image | None
    info: dict[str, Any] = field(default_factory=dict)


class SignalError(CodedError):
    """Raised by a signal for one sample when the input defeats it.

    ``code`` is machine-readable (``metadata.invalid_json``); the engine stores
    ``"<code>: <message>"`` in the ``<name>.error`` column and nulls the signal's fields.
    """


@runtime_checkable
class Signal(Protocol):
    """A per-image signal.

    Attributes:
        name: column prefix, lower-case, no dots (``exif``, ``phash``, ``detector``).
        version: bump it whenever the output for the same bytes can change; a rerun
            recomputes rows whose stored version differs.
        schema: the fields (without prefix); every value is nullable.
        needs_image: when False the signal also receives samples that failed to decode
            (``image is None``), e.g. to read metadata from a truncated file.

    ``compute`` returns one dict per sample, in order, holding the schema's fields (missing
    keys become null), or a ``SignalError`` instance for a sample the signal could not read.
    It may raise for the whole batch; the engine then retries sample by sample.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    schema: ClassVar[pa.Schema]
    needs_image: ClassVar[bool]

    def compute(self, batch: list[Sample]) -> list[dict[str, Any] | SignalError]: ...


def signal_version(cls: type, options: dict[str, Any] | None = None) -> str:
    """The version a signal's rows carry under ``options``: a signal whose output depends on an option (the
    detector's model) defines ``version_for(options)``, so a rerun with another option recomputes, not resumes."""
    version_for = getattr(cls, "version_for", None)
    return str(version_for(options or {})) if version_for else str(cls.version)


def prepare_signals(classes: list[type], options: dict[str, dict[str, Any]]) -> None:
    """Run each signal's optional ``prepare(options)`` once in the driver, before workers start: a model that
    must be fetched is fetched once, with one message, instead of by every worker at the same time."""
    for cls in classes:
        prepare = getattr(cls, "prepare", None)
        if prepare:
            prepare(options.get(cls.name) or {})


def decode_side(classes: list[type], options: dict[str, dict[str, Any]]) -> int | None:
    """The smallest decode that serves every signal of a run: a signal that needs only ``image_side(options)``
    pixels on the shorter side says so; one that does not define it needs the full image (the default)."""
    sides = [getattr(cls, "image_side", lambda _o: None)(options.get(cls.name) or {}) for cls in classes]
    return None if not sides or None in sides else max(sides)
