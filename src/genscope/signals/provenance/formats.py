"""Generators whose metadata is one JSON object (or InvokeAI's old switch line): field mappings only."""

from __future__ import annotations

import itertools
import re
import shlex
from typing import Any

from genscope.signals.provenance.generation import Generation, to_float, to_int, to_text


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def novelai(comment: dict[str, Any], description: str | None, source: str | None) -> Generation:
    """NovelAI ``Comment`` JSON; older files keep the prompt only in ``Description``."""
    return Generation(
        tool="novelai",
        prompt=to_text(comment.get("prompt")) or to_text(description),
        negative_prompt=to_text(comment.get("uc"))
        or to_text(_dig(comment, "v4_negative_prompt", "caption", "base_caption")),
        seed=to_int(comment.get("seed")),
        steps=to_int(comment.get("steps")),
        sampler=to_text(comment.get("sampler")),
        cfg_scale=to_float(comment.get("scale")),
        model=to_text(source),
    )


def invokeai_metadata(meta: dict[str, Any]) -> Generation:
    """InvokeAI 3+ ``invokeai_metadata``."""
    model = meta.get("model")
    return Generation(
        tool="invokeai",
        prompt=to_text(meta.get("positive_prompt")),
        negative_prompt=to_text(meta.get("negative_prompt")),
        seed=to_int(meta.get("seed")),
        steps=to_int(meta.get("steps")),
        sampler=to_text(meta.get("scheduler")),
        cfg_scale=to_float(meta.get("cfg_scale")),
        model=to_text(_dig(model, "model_name") or _dig(model, "name") or model),
    )


def invokeai_sd_metadata(meta: dict[str, Any]) -> Generation:
    """InvokeAI 2.x ``sd-metadata``: the prompt is a list of weighted fragments."""
    image = meta.get("image") if isinstance(meta.get("image"), dict) else {}
    prompt = image.get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(str(p.get("prompt", "")) for p in prompt if isinstance(p, dict))
    return Generation(
        tool="invokeai",
        prompt=to_text(prompt),
        seed=to_int(image.get("seed")),
        steps=to_int(image.get("steps")),
        sampler=to_text(image.get("sampler")),
        cfg_scale=to_float(image.get("cfg_scale")),
        model=to_text(meta.get("model_weights")),
    )


DREAM_SWITCHES = {"-S": "seed", "-s": "steps", "-C": "cfg_scale", "-A": "sampler"}


def invokeai_dream(line: str) -> Generation | None:
    """InvokeAI 1.x/2.x ``Dream``: ``"prompt" -s 50 -S 42 -C 7.5 -A k_lms ...``."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if not words:
        return None
    values = {DREAM_SWITCHES[a]: b for a, b in itertools.pairwise(words[1:]) if a in DREAM_SWITCHES}
    return Generation(
        tool="invokeai",
        prompt=words[0].strip() or None,
        seed=to_int(values.get("seed")),
        steps=to_int(values.get("steps")),
        sampler=values.get("sampler"),
        cfg_scale=to_float(values.get("cfg_scale")),
    )


def keyed(tool: str, values: dict[str, Any], prompt: str, negative: str, cfg_scale: str, model: str,
          sampler: str = "sampler") -> Generation:
    """A flat JSON format: the same fields under the tool's own key names (seed and steps are shared)."""
    return Generation(
        tool=tool,
        prompt=to_text(values.get(prompt)),
        negative_prompt=to_text(values.get(negative)),
        seed=to_int(values.get("seed")),
        steps=to_int(values.get("steps")),
        sampler=to_text(values.get(sampler)),
        cfg_scale=to_float(values.get(cfg_scale)),
        model=to_text(values.get(model)),
    )


def fooocus(meta: dict[str, Any]) -> Generation:
    return keyed("fooocus", meta, "prompt", "negative_prompt", "guidance_scale", "base_model")


def swarmui(meta: dict[str, Any]) -> Generation:
    params = meta.get("sui_image_params") if isinstance(meta.get("sui_image_params"), dict) else {}
    return keyed("swarmui", params, "prompt", "negativeprompt", "cfgscale", "model")


def tensorart(meta: dict[str, Any], graph: Generation | None) -> Generation:
    """TensorArt ``generation_data`` next to a ComfyUI ``prompt`` graph; ``seed: -1`` means random."""
    seed = to_int(meta.get("seed"))
    base = graph or Generation(tool="tensorart")
    return Generation(
        tool="tensorart",
        prompt=to_text(meta.get("prompt")) or base.prompt,
        negative_prompt=to_text(meta.get("negativePrompt")) or base.negative_prompt,
        seed=seed if seed is not None and seed >= 0 else base.seed,
        steps=to_int(meta.get("steps")) or base.steps,
        sampler=to_text(meta.get("ksamplerName")) or base.sampler,
        cfg_scale=to_float(meta.get("cfgScale")) or base.cfg_scale,
        model=to_text(_dig(meta, "baseModel", "modelFileName")) or base.model,
        samplers=base.samplers,
    )


def drawthings(meta: dict[str, Any]) -> Generation:
    """Draw Things: JSON in the XMP ``exif:UserComment`` with short keys."""
    return keyed("drawthings", meta, "c", "uc", "scale", "model")


MIDJOURNEY_JOB = re.compile(r"\bJob ID:\s*[0-9a-f-]{36}", re.IGNORECASE)


def midjourney(description: str) -> Generation:
    """Midjourney PNG ``Description``: ``prompt --ar 16:9 --v 6 Job ID: <uuid>``."""
    prompt = MIDJOURNEY_JOB.split(description)[0]
    return Generation(tool="midjourney", prompt=prompt.split(" --")[0].strip() or None)
