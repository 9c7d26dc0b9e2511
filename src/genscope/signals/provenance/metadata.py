"""The ``metadata`` group: which tool made or touched the file, and its generation settings.

Sources are tried from the most specific to the least: PNG text chunks, EXIF UserComment,
ComfyUI's EXIF Make/Model trick, JPEG comments, XMP, then pixel-LSB stealth data. The first
source that parses as generation metadata names the tool; later ones only fill what is missing.
Problems (a bad CRC, JSON that is not JSON) are kept as the group's error while everything
readable is still reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from genscope.signals.provenance import a1111, comfyui, formats
from genscope.signals.provenance.containers import Containers
from genscope.signals.provenance.exif import Exif
from genscope.signals.provenance.generation import Generation, to_text
from genscope.signals.provenance.limits import Limits, ReadError
from genscope.signals.provenance.stealth import read_stealth
from genscope.signals.provenance.xmp import read_xmp

GENERATORS = frozenset({"a1111", "forge", "sdnext", "civitai", "fooocus", "comfyui", "tensorart", "invokeai",
                        "novelai", "swarmui", "drawthings", "midjourney", "dalle", "firefly", "google"})
# Substrings of Software / CreatorTool / Credit naming a generator (checked lower-case).
GENERATOR_NAMES = {"midjourney": "midjourney", "dall-e": "dalle", "dall·e": "dalle", "firefly": "firefly",
                   "made with google ai": "google", "imagen": "google", "draw things": "drawthings",
                   "novelai": "novelai", "invokeai": "invokeai", "comfyui": "comfyui"}
EDITORS = ("photoshop", "lightroom", "gimp", "affinity", "capture one", "pixelmator", "paint.net",
           "snapseed", "darktable", "rawtherapee", "luminar", "photopea", "picasa")
SCREENSHOT = "screenshot"

PixelSource = Callable[[], "np.ndarray | None"]


def parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text.strip("\x00 \t\r\n"))  # some writers end the chunk with a NUL
    except (ValueError, RecursionError):
        raise ReadError("metadata.invalid_json", f"{where} is not valid JSON") from None


def decode_user_comment(raw: bytes) -> tuple[str | None, str | None]:
    """EXIF UserComment -> (text, encoding). The 8-byte header names the character code."""
    head, body = raw[:8], raw[8:]
    if head == b"UNICODE\x00":
        if len(body) % 2:
            raise ReadError("metadata.invalid_encoding", "UTF-16 UserComment has an odd number of bytes")
        if body[:2] in (b"\xfe\xff", b"\xff\xfe"):
            encoding = "utf-16-be" if body[:2] == b"\xfe\xff" else "utf-16-le"
            body = body[2:]
        else:
            # No BOM: ASCII-range text has its zero bytes first in big-endian order.
            sample = body[:512]
            even, odd = sample[0::2].count(0), sample[1::2].count(0)
            encoding = "utf-16-le" if odd > even else "utf-16-be"
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            raise ReadError("metadata.invalid_encoding", f"UserComment is not valid {encoding}") from None
    elif head == b"ASCII\x00\x00\x00":
        encoding, text = "ascii", body.decode("utf-8", errors="replace")
    elif head == b"\x00" * 8 or head.startswith(b"JIS"):
        encoding, text = None, body.decode("utf-8", errors="replace")
    else:  # no header at all: some tools write bare UTF-8
        encoding, text = None, raw.decode("utf-8", errors="replace")
    text = text.strip("\x00 \t\r\n")
    return (text or None), (encoding if text else None)


class _Collector:
    """Gathers candidate generations, raw sources and issues for one file."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.found: list[tuple[str, Generation]] = []
        self.raw: dict[str, str] = {}
        self.issues: list[ReadError] = []

    def keep_raw(self, source: str, text: str) -> None:
        self.raw[source] = text[: self.limits.max_raw_chars]

    def add(self, source: str, generation: Generation | None) -> None:
        if generation is not None:
            self.found.append((source, generation))

    def guarded(self, source: str, parse: Callable[[], Generation | None]) -> None:
        try:
            self.add(source, parse())
        except ReadError as err:
            self.issues.append(err)


def _from_json_object(obj: Any) -> Generation | None:
    """Dispatch a JSON object found in a free-form field (UserComment, parameters, stealth)."""
    if not isinstance(obj, dict):
        return None
    if "sui_image_params" in obj:
        return formats.swarmui(obj)
    if "fooocus" in (str(obj.get("metadata_scheme", "")).lower(), str(obj.get("version", ""))[:7].lower()):
        return formats.fooocus(obj)
    if "positive_prompt" in obj and "generation_mode" in obj:
        return formats.invokeai_metadata(obj)
    if str(obj.get("Software", "")).startswith("NovelAI") and isinstance(obj.get("Comment"), str):
        comment = _object(obj["Comment"], "NovelAI Comment")
        return formats.novelai(comment, obj.get("Description"), obj.get("Source"))
    if "c" in obj and ("seed" in obj or "sampler" in obj):
        return formats.drawthings(obj)
    if any(isinstance(v, dict) and "class_type" in v for v in obj.values()):
        return comfyui.parse_prompt_graph(obj)
    return None


def _free_text(text: str, where: str) -> Generation | None:
    """A text field that may hold an infotext or a JSON object."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return _from_json_object(parse_json(stripped, where))
    return a1111.parse_infotext(stripped) if a1111.looks_like_infotext(stripped) else None


def _png_sources(texts: dict[str, str], out: _Collector) -> None:
    for key, text in texts.items():
        if key != "XML:com.adobe.xmp":
            out.keep_raw(f"png:{key}", text)
    if "parameters" in texts:
        out.guarded("png:parameters", lambda: _free_text(texts["parameters"], "parameters chunk"))
    if "prompt" in texts or "workflow" in texts:
        tool = "tensorart" if "generation_data" in texts else "comfyui"
        out.guarded("png:prompt", lambda: _comfy(texts, tool, out))
    if "invokeai_metadata" in texts:
        out.guarded("png:invokeai_metadata", lambda: formats.invokeai_metadata(
            _object(texts["invokeai_metadata"], "invokeai_metadata chunk")))
    if "sd-metadata" in texts:
        out.guarded("png:sd-metadata", lambda: formats.invokeai_sd_metadata(
            _object(texts["sd-metadata"], "sd-metadata chunk")))
    if "Dream" in texts:
        out.guarded("png:Dream", lambda: formats.invokeai_dream(texts["Dream"]))
    if texts.get("Software", "").startswith("NovelAI") or "NovelAI" in texts.get("Source", ""):
        comment = texts.get("Comment", "{}")
        out.guarded("png:Comment", lambda: formats.novelai(
            _object(comment, "NovelAI Comment"), texts.get("Description"), texts.get("Source")))
    description = texts.get("Description", "")
    if formats.MIDJOURNEY_JOB.search(description):
        out.add("png:Description", formats.midjourney(description))


def _object(text: str, where: str) -> dict[str, Any]:
    obj = parse_json(text, where)
    if not isinstance(obj, dict):
        raise ReadError("metadata.invalid_json", f"{where} is not a JSON object")
    return obj


def _comfy(texts: dict[str, str], tool: str, out: _Collector) -> Generation:
    """ComfyUI prompt graph, else its workflow; a broken chunk is an issue, not a lost tool."""
    graph: Generation | None = None
    for key, parse in (("prompt", comfyui.parse_prompt_graph), ("workflow", comfyui.parse_workflow)):
        if key in texts and graph is None:
            try:
                graph = parse(_object(texts[key], f"ComfyUI {key} chunk"), tool)
            except ReadError as err:
                out.issues.append(err)
    if tool == "tensorart" and "generation_data" in texts:
        return formats.tensorart(_object(texts["generation_data"], "generation_data chunk"), graph)
    return graph or Generation(tool=tool)


def _exif_sources(exif: Exif, out: _Collector) -> tuple[str | None, str | None]:
    """Generation metadata in EXIF; returns the plain UserComment and its encoding."""
    comment, encoding = None, None
    if "UserComment" in exif.values:
        try:
            comment, encoding = decode_user_comment(exif.values["UserComment"])
        except ReadError as err:
            out.issues.append(err)
    if comment:
        out.keep_raw("exif:UserComment", comment)
        before = len(out.found)
        out.guarded("exif:UserComment", lambda: _free_text(comment, "EXIF UserComment"))
        if len(out.found) > before:
            comment = None  # it was generation metadata, not a user's note
    texts = {}
    for tag in ("Make", "Model"):  # ComfyUI WebP: "workflow:{...}" in Make, "prompt:{...}" in Model
        value = exif.text(tag) or ""
        key, sep, rest = value.partition(":")
        if sep and key in ("prompt", "workflow") and rest.lstrip().startswith("{"):
            texts[key] = rest
            out.keep_raw(f"exif:{tag}", value)
    if texts:
        out.guarded("exif:Make/Model", lambda: _comfy(texts, "comfyui", out))
    description = exif.text("ImageDescription")
    if description and a1111.looks_like_infotext(description):
        out.keep_raw("exif:ImageDescription", description)
        out.guarded("exif:ImageDescription", lambda: a1111.parse_infotext(description))
    return comment, encoding


def _named_tool(*names: str | None) -> str | None:
    for name in names:
        lowered = (name or "").lower()
        for needle, tool in GENERATOR_NAMES.items():
            if needle in lowered:
                return tool
    return None


def read_metadata(found: Containers, exif: Exif, pixels: PixelSource, limits: Limits) -> dict[str, Any]:
    """The ``metadata`` group from the container blocks, the EXIF and (lazily) the pixels."""
    out = _Collector(limits)
    out.issues.extend(found.issues)
    _png_sources(found.texts, out)
    user_comment, encoding = _exif_sources(exif, out)
    if found.comment and a1111.looks_like_infotext(found.comment):
        out.keep_raw("jpeg:COM", found.comment)
        out.guarded("jpeg:COM", lambda: a1111.parse_infotext(found.comment or ""))
    xmp = read_xmp(found.xmp) if found.xmp else {}
    xmp_comment = xmp.get("user_comment", "")
    if xmp_comment.startswith("{"):
        out.keep_raw("xmp:UserComment", xmp_comment)
        out.guarded("xmp:UserComment", lambda: _free_text(xmp_comment, "XMP UserComment"))
    stealth = None
    if found.format in ("png", "webp"):
        array = pixels()
        if array is not None:
            try:
                hidden = read_stealth(array, limits)
            except ReadError as err:
                out.issues.append(err)
                hidden = None
            if hidden:
                stealth, text = hidden
                out.keep_raw(f"stealth:{stealth}", text)
                out.guarded(f"stealth:{stealth}", lambda: _free_text(text, f"{stealth} payload"))

    software = exif.text("Software") or xmp.get("creator_tool") or found.texts.get("Software")
    result: dict[str, Any] = {
        "tool": None, "source": None, "samplers": [],
        "usercomment": user_comment, "usercomment_encoding": encoding, "stealth": stealth,
        "chunks": list(found.texts), "digital_source_type": xmp.get("digital_source_type"),
        "credit": xmp.get("credit"), "software": software, "raw": out.raw,
    }
    if out.found:
        source, first = out.found[0]
        merged = asdict(first)
        for _, other in out.found[1:]:
            for key, value in asdict(other).items():
                if merged.get(key) in (None, []) and value not in (None, []):
                    merged[key] = value
        result.update(merged, source=source)
    else:
        result["tool"] = _fallback_tool(xmp, software, user_comment, exif)
    if out.issues:
        result["error"], result["error_message"] = out.issues[0].code, out.issues[0].message
    return result


def _fallback_tool(xmp: dict[str, str], software: str | None, comment: str | None, exif: Exif) -> str | None:
    """No generation settings: name the generator, editor, screenshot or camera the traces point to."""
    named = _named_tool(xmp.get("credit"), xmp.get("creator_tool"), software, xmp.get("software_agent"))
    if named:
        return named
    if any(editor in (software or "").lower() for editor in EDITORS):
        return "editor"
    if SCREENSHOT in {(comment or "").lower(), xmp.get("user_comment", "").lower()}:
        return "screenshot"
    if to_text(exif.text("Make")):
        return "camera"
    return None
