"""``genscope.provenance(path_or_bytes)``: every provenance trace of one file, as a JSON-ready dict."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import c2pa as sdk

from genscope.decode import register_optional_decoders
from genscope.signals.provenance.c2pa import build_context, load_trust_anchors
from genscope.signals.provenance.limits import Limits
from genscope.signals.provenance.reader import Options, read_provenance
from genscope.sources.item import Item, ReadError, read_item

FILE_LEVEL = ("io.", "image.")


@lru_cache(maxsize=4)
def _context(trust_anchors_pem: str | None) -> sdk.Context:
    # Built once per trust list: the SDK parses the PEM bundle on each build.
    return build_context(trust_anchors_pem)


def _read(path: str, limits: Limits) -> tuple[bytes | None, dict[str, str] | None]:
    # The scan's reader: a FIFO or device is refused before it is opened, and no read passes the limit.
    try:
        return read_item(Item(path=path, file=path), limits.max_file_bytes), None
    except ReadError as exc:
        return None, {"code": exc.code, "message": exc.message}


def provenance(source: str | os.PathLike[str] | bytes, *, trust_anchors: str | os.PathLike[str] | None = None,
               watermark: str = "auto", limits: Limits | None = None) -> dict[str, Any]:
    """Read C2PA, generation metadata, invisible watermarks and camera EXIF of one image.

    ``source`` is a path or the file's bytes. ``trust_anchors`` is a PEM bundle (path or text)
    of C2PA signers to trust; without it no signer is trusted, which is not the same as
    tampered. ``watermark="always"`` decodes watermarks even where they cannot survive
    (JPEG chroma subsampling), for diagnosis. Never raises for a bad file: problems are in
    ``error`` (the file itself) and ``errors`` (every code, per group too).
    """
    if watermark not in ("auto", "always"):
        raise ValueError(f"watermark must be 'auto' or 'always', not {watermark!r}")
    limits = limits or Limits()
    register_optional_decoders()  # HEIF, as in a scan: both paths must see the same facts
    path = None if isinstance(source, bytes | bytearray) else os.fspath(source)
    data, failure = (bytes(source), None) if path is None else _read(path, limits)
    if data is None:
        assert failure is not None
        return {"path": path, "error": failure["code"], "error_message": failure["message"],
                "ai": "unknown", "reasons": [], "errors": [failure["code"]]}
    options = Options(limits=limits, watermark=watermark, check_image=True)
    record = read_provenance(data, _context(load_trust_anchors(trust_anchors)), options)
    file_errors = [code for code in record["errors"] if code.startswith(FILE_LEVEL)]
    return {"path": path, "error": file_errors[0] if file_errors else None,
            "error_message": record.pop("error_message", None), **record}
