"""The fields of each provenance group: one list drives the JSON shape and the Parquet schema."""

from __future__ import annotations

import pyarrow as pa

TEXT, FLAG, INT, REAL, TEXTS, JSON = "text", "flag", "int", "real", "texts", "json"
ARROW = {TEXT: pa.string(), FLAG: pa.bool_(), INT: pa.int64(), REAL: pa.float64(),
         TEXTS: pa.list_(pa.string()), JSON: pa.string()}  # JSON: nested values stored as JSON text
ERROR_FIELDS = (("error", TEXT), ("error_message", TEXT))

GROUP_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "c2pa": (
        ("present", FLAG), ("validation_state", TEXT), ("validation_codes", TEXTS), ("claim_generator", TEXT),
        ("digital_source_types", TEXTS), ("manifests", INT), ("signer", TEXT), ("signed_at", TEXT),
        ("remote_manifest_url", TEXT), ("trust", TEXT), ("tampered", FLAG), ("generator", TEXT),
        ("capture", FLAG), *ERROR_FIELDS,
    ),
    "metadata": (
        ("tool", TEXT), ("prompt", TEXT), ("negative_prompt", TEXT), ("seed", INT), ("steps", INT),
        ("sampler", TEXT), ("cfg_scale", REAL), ("model", TEXT), ("samplers", JSON), ("source", TEXT),
        ("usercomment", TEXT), ("usercomment_encoding", TEXT), ("stealth", TEXT), ("chunks", TEXTS),
        ("digital_source_type", TEXT), ("credit", TEXT), ("software", TEXT), ("raw", JSON), *ERROR_FIELDS,
    ),
    "watermark": (
        ("detected", FLAG), ("scheme", TEXT), ("bit_accuracy", REAL), ("decoded", TEXT), ("read_as", TEXT),
        ("decodable", FLAG), ("not_decodable_reason", TEXT), ("bit_accuracy_sd1", REAL),
        ("bit_accuracy_sd1_float32", REAL), ("bit_accuracy_sdxl", REAL), ("bit_accuracy_sdxl_float32", REAL),
        *ERROR_FIELDS,
    ),
    "camera": (
        ("make", TEXT), ("model", TEXT), ("datetime_original", TEXT), ("gps", FLAG), ("lens", TEXT),
        ("software", TEXT),
    ),
}
TOP_FIELDS = (("ai", TEXT), ("reasons", TEXTS), ("errors", TEXTS))


def complete(group: str, values: dict) -> dict:
    """The group's dict with every field present (None where unknown), in schema order."""
    return {name: values.get(name) for name, _ in GROUP_FIELDS[group]}
