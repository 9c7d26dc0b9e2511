"""The ``c2pa`` group: Content Credentials read and validated by the C2PA SDK (c2pa-python), offline.

The SDK is only called when the container walker saw a JUMBF box, so a file without credentials
costs nothing here. Validation state is the SDK's own (Valid / Trusted / Invalid); on top of it
this module says in plain words what the codes mean, because an untrusted signer (we were given
no trust list that names it) is a different thing from a tampered file (the content no longer
matches what was signed).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import c2pa as sdk

from genscope.signals.provenance.limits import ReadError

MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
# Magic numbers of other formats the SDK can carry a manifest in. Not a bare JPEG XL codestream
# (FF 0A): only the boxed JXL container has room for a manifest.
OTHER_MAGIC = ((b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"), (b"GIF8", "image/gif"),
               (b"\x00\x00\x00\x0cJXL ", "image/jxl"))
FTYP_BRANDS = {b"avif": "image/avif", b"avis": "image/avif", b"heic": "image/heic", b"heix": "image/heic",
               b"mif1": "image/heif"}
AI_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})
CAPTURE_SOURCE_TYPES = frozenset({"digitalCapture", "computationalCapture", "negativeFilm", "positiveFilm"})
CAPTURE_EXIF_KEYS = ("tiff:Make", "tiff:Model", "exif:FileSource")
# Names in softwareAgent / claim_generator / description that only a generator writes (lower-case).
GENERATOR_MARKS = ("image creator", "microsoft_responsible_ai", "dall", "openai", "chatgpt", "firefly",
                   "midjourney", "imagen", "stable diffusion", "ai generated", "ai-generated")


def mime_type(data: bytes, container: str | None) -> str | None:
    if container in MIME:
        return MIME[container]
    for magic, mime in OTHER_MAGIC:
        if data.startswith(magic):
            return mime
    if data[4:8] == b"ftyp":
        return FTYP_BRANDS.get(data[8:12])
    return None


def load_trust_anchors(value: str | os.PathLike[str] | None) -> str | None:
    """PEM text from a path, or the PEM text itself."""
    if value is None:
        return None
    text = os.fspath(value)
    if text.lstrip().startswith("-----BEGIN"):
        return text
    return Path(text).read_text(encoding="ascii")


def build_context(trust_anchors_pem: str | None) -> sdk.Context:
    """SDK settings: never fetch (remote manifests, OCSP); trust only the anchors given."""
    verify = {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False}
    settings: dict[str, Any] = {"verify": verify}
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    return sdk.Context.from_dict(settings)


def is_credential_code(code: str) -> bool:
    """Codes about who signed, not about whether the content changed."""
    return (code.startswith(("signingCredential.", "ingredient."))
            or code in ("timeStamp.untrusted", "timeStamp.outsideValidity")
            or (code.startswith("cawg.") and code.endswith(".untrusted")))


def _last_component(uri: Any) -> str | None:
    return str(uri).strip().rstrip("/").rsplit("/", 1)[-1] or None if uri else None


def _source_types_in(params: Any, found: set[str]) -> None:
    """digitalSourceType values nested in action parameters (``com.adobe.digitalSourceType`` ...)."""
    if isinstance(params, dict):
        for key, value in params.items():
            if key.lower().endswith("digitalsourcetype") and isinstance(value, str):
                found.add(_last_component(value) or "")
            else:
                _source_types_in(value, found)
    elif isinstance(params, list):
        for value in params:
            _source_types_in(value, found)


def _agent_name(agent: Any) -> str | None:
    if isinstance(agent, dict):
        agent = agent.get("name")
    return agent if isinstance(agent, str) else None


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    if manifest.get("claim_generator"):
        return manifest["claim_generator"]
    info = manifest.get("claim_generator_info") or [{}]
    return info[0].get("name") if isinstance(info[0], dict) else None


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    actions = []
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            actions += [a for a in (assertion.get("data") or {}).get("actions") or [] if isinstance(a, dict)]
    return actions


def _generator_mark(text: Any) -> str | None:
    return text if isinstance(text, str) and any(m in text.lower() for m in GENERATOR_MARKS) else None


def summarize(store: dict[str, Any]) -> dict[str, Any]:
    """Facts from the SDK's manifest-store JSON."""
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest")) or {}
    source_types: set[str] = set()
    generator = None
    for manifest in manifests.values():
        for action in _actions(manifest):
            if action.get("digitalSourceType"):
                source_types.add(_last_component(action["digitalSourceType"]) or "")
            _source_types_in(action.get("parameters"), source_types)
            for text in (_agent_name(action.get("softwareAgent")), action.get("description")):
                generator = generator or _generator_mark(text)
        generator = generator or _generator_mark(_claim_generator(manifest))
    source_types.discard("")
    active_types = {_last_component(a.get("digitalSourceType")) for a in _actions(active)}
    exif = [a.get("data") or {} for a in active.get("assertions") or [] if a.get("label") == "stds.exif"]
    codes = list(dict.fromkeys(s.get("code") for s in store.get("validation_status") or [] if s.get("code")))
    signature = active.get("signature_info") or {}
    signer = signature.get("common_name") or signature.get("issuer")
    if signer and signature.get("issuer") and signature.get("issuer") != signer:
        signer = f"{signer} ({signature['issuer']})"
    return {
        "claim_generator": _claim_generator(active),
        "digital_source_types": sorted(source_types),
        "manifests": len(manifests),
        "signer": signer,
        "signed_at": signature.get("time"),
        "validation_codes": codes,
        "tampered": any(not is_credential_code(c) for c in codes),
        "generator": generator,
        "capture": bool(active_types & CAPTURE_SOURCE_TYPES)
        or any(k in e for e in exif if isinstance(e, dict) for k in CAPTURE_EXIF_KEYS),
    }


def trust_explanation(state: str | None, codes: list[str], tampered: bool, signer: str | None) -> str:
    who = signer or "an unnamed signer"
    if tampered:
        broken = ", ".join(c for c in codes if not is_credential_code(c))
        return (f"Tampered or broken: the file no longer matches what {who} signed ({broken}). "
                "Its claims describe an earlier version at best.")
    if state == "Trusted":
        return f"Intact and trusted: signed by {who}, whose certificate chains to a trust anchor given."
    problems = [c for c in codes if c != "signingCredential.untrusted" and is_credential_code(c)]
    if problems:
        return (f"Content intact (not tampered), but the signing credential of {who} has a problem: "
                f"{', '.join(problems)}. Who signed cannot be vouched for; what was signed still matches.")
    return (f"Intact: the content matches what {who} signed. The signer is not on a trust list genscope was "
            "given, so its identity is unverified; untrusted does not mean tampered.")


def read_c2pa(data: bytes, container: str | None, has_jumbf: bool, remote_url: str | None,
              context: sdk.Context) -> dict[str, Any]:
    out: dict[str, Any] = {"present": False, "remote_manifest_url": remote_url}
    mime = mime_type(data, container)
    if remote_url:
        out["present"] = True
        out["trust"] = f"Only a remote manifest is referenced ({remote_url}); offline, it was not fetched."
    if mime is None or (container in MIME and not has_jumbf):
        return out
    try:
        reader = sdk.Reader.try_create(mime, io.BytesIO(data), context=context)
        if reader is None:
            if has_jumbf:  # our walker saw a C2PA box the SDK could not make sense of
                raise ReadError("c2pa.malformed", "a C2PA JUMBF box holds no readable manifest")
            return out
        with reader:
            store = json.loads(reader.json())
            state = reader.get_validation_state()
    except sdk.C2paError.NotSupported:
        return out
    except sdk.C2paError as exc:
        raise ReadError("c2pa.malformed", str(exc)) from None
    facts = summarize(store)
    out.update(facts, present=True, validation_state=state,
               trust=trust_explanation(state, facts["validation_codes"], facts["tampered"], facts["signer"]))
    return out
