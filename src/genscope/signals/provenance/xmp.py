"""The few XMP properties provenance reads, by pattern: no XML parser touches untrusted input."""

from __future__ import annotations

import html
import re

PROPERTIES = {
    "digital_source_type": "Iptc4xmpExt:DigitalSourceType",
    "credit": "photoshop:Credit",
    "creator_tool": "xmp:CreatorTool",
    "user_comment": "exif:UserComment",
    "provenance": "dcterms:provenance",
    "software_agent": "stEvt:softwareAgent",
}
MAX_XMP = 4 * 1024 * 1024  # larger packets are read only up to here


def _property(xmp: str, qname: str) -> str | None:
    """The first occurrence only, found and closed with linear scans: no regex backtracking."""
    at = xmp.find(qname)
    if at == -1:
        return None
    name = re.escape(qname)
    first = re.compile(rf"<{name}\b|\b{name}\s*=\s*[\"']").search(xmp, max(0, at - 1))
    if first is None:
        return None
    if first.group(0).startswith("<"):  # element form: <ns:Name ...>value or <rdf:Alt>...</ns:Name>
        start = xmp.find(">", first.end())
        end = xmp.find(f"</{qname}>", start)
        if start == -1 or end == -1:
            return None
        inner = re.sub(r"<[^>]*>", " ", xmp[start + 1 : end])  # rdf:Alt / rdf:li wrappers
        return html.unescape(" ".join(inner.split())) or None
    quote = first.group(0)[-1]  # attribute form: ns:Name="value"
    end = xmp.find(quote, first.end())
    return html.unescape(xmp[first.end() : end]).strip() or None if end != -1 else None


def read_xmp(xmp: str) -> dict[str, str]:
    """Present properties by short name; ``digital_source_type`` keeps only the IPTC code."""
    packet = xmp[:MAX_XMP]
    found = {key: value for key, qname in PROPERTIES.items() if (value := _property(packet, qname))}
    if "digital_source_type" in found:
        found["digital_source_type"] = found["digital_source_type"].rstrip("/").rsplit("/", 1)[-1]
    return found
