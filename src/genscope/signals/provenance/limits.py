"""Size and time limits for reading provenance from untrusted files, and the error they raise."""

from __future__ import annotations

import time
from dataclasses import dataclass

from genscope.errors import CodedError


class ReadError(CodedError):
    """One provenance group could not be read; ``code`` is machine-readable (``metadata.bad_crc``)."""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one hostile file from costing more than a normal one."""

    max_file_bytes: int = 512 * 1024 * 1024  # the API refuses to read larger files
    max_text_chunk: int = 8 * 1024 * 1024  # largest text chunk read; real infotexts/graphs are < 1 MB
    max_inflated: int = 8 * 1024 * 1024  # zTXt/iTXt/stealth payload after decompression
    max_stealth_payload: int = 1024 * 1024  # stored LSB payload; real ones are a few KB
    max_chunks: int = 100_000  # PNG chunks or JPEG segments walked
    max_decode_pixels: int = 20_000_000  # larger images are not decoded (watermark, stealth data): time bound
    max_raw_chars: int = 64 * 1024  # per source chunk kept in ``metadata.raw``
    seconds: float = 5.0  # per-file budget, checked between stages


class Deadline:
    """A cooperative per-file time limit: stages call ``check`` before costly work."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self.seconds = seconds

    def expired(self) -> bool:
        return time.monotonic() > self._end

    def check(self, group: str) -> None:
        if self.expired():
            raise ReadError(f"{group}.timeout", f"time limit of {self.seconds:g} s per file reached")
