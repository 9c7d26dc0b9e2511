"""``genscope.provenance(path_or_bytes)``: every provenance trace of one file, as a JSON-ready dict."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import c2pa as sdk

from genscope.signals.provenance.c2pa import build_context, load_trust_anchors
from genscope.signals.provenance.limits import Limits
from genscope.signals.provenance.reader import Options, read_provenance

FILE_LEVEL = ("io.", "image.")


@lru_cache(maxsize=4)
def _context(trust_anchors_pem: str | None) -> sdk.Context:
    # Built once per trust list: the SDK parses the PEM bundle on each build.
    return build_context(trust_anchors_pem)


def _read(source: str | os.PathLike[str], limits: Limits) -> tuple[bytes | None, dict[str, str] | None]:
    try:
        size = os.path.getsize(source)
        if size > limits.max_file_bytes:
            return None, {"code": "io.too_large", "message": f"{size} bytes (limit {limits.max_file_bytes})"}
        with open(source, "rb") as handle:
            return handle.read(), None
    except FileNotFoundError:
        return None, {"code": "io.not_found", "message": "no such file"}
    except PermissionError:
        return None, {"code": "io.permission", "message": "permission denied"}
    except IsADirectoryError:
        return None, {"code": "io.is_directory", "message": "is a directory"}
    except OSError as exc:
        return None, {"code": "io.error", "message": exc.strerror or str(exc)}


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
    path = None if isinstance(source, bytes | bytearray) else os.fspath(source)
    data, failure = (bytes(source), None) if path is None else _read(path, limits)
    if data is None:
        assert failure is not None
        return {"path": path, "error": failure["code"], "error_message": failure["message"],
                "ai": "unknown", "reasons": [], "errors": [failure["code"]]}
    options = Options(limits=limits, watermark=watermark, check_image=True)
    record = read_provenance(data, _context(load_trust_anchors(trust_anchors)), options)
    file_errors = [code for code in record["errors"] if code.startswith(FILE_LEVEL)]
    return {"path": path, "error": file_errors[0] if file_errors else None, **record}
