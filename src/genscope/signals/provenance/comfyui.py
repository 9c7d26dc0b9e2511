"""ComfyUI node graphs: the API "prompt" graph (what ran) and, failing that, the UI "workflow".

A graph may hold several samplers (two-pass, refiner, unCLIP...). Each is reported with the
values reached by following its links (prompt text through conditioning nodes, checkpoint
through LoRA and patch nodes). The headline fields are filled only when every sampler agrees,
so a two-pass graph never shows one pass's seed as if it were the image's.
"""

from __future__ import annotations

from typing import Any

from genscope.signals.provenance.generation import Generation, to_float, to_int, to_text

MAX_HOPS = 32  # link-following depth; real graphs need a handful, cycles need a stop
MODEL_KEYS = ("ckpt_name", "unet_name", "model_name", "gguf_name")
TEXT_KEYS = ("text", "text_g", "string", "value", "prompt", "text_l")
SAMPLER_HINTS = ("seed", "noise_seed", "steps", "noise", "sigmas")
FIELDS = ("prompt", "negative_prompt", "seed", "steps", "sampler", "cfg_scale", "model")


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


class _ApiGraph:
    def __init__(self, graph: dict[str, Any]) -> None:
        self.nodes = {str(k): v for k, v in graph.items() if isinstance(v, dict)}

    def inputs(self, link: Any) -> dict[str, Any]:
        node = self.nodes.get(str(link[0])) if _is_link(link) else None
        inputs = node.get("inputs") if node else None
        return inputs if isinstance(inputs, dict) else {}

    def value(self, value: Any, keys: tuple[str, ...], hops: int = 0) -> Any:
        """Follow links until a literal; at each node take the first of ``keys`` present."""
        while _is_link(value) and hops < MAX_HOPS:
            inputs = self.inputs(value)
            key = next((k for k in keys if k in inputs), None)
            if key is None:
                literals = [v for v in inputs.values() if not _is_link(v)]
                return literals[0] if len(literals) == 1 else None
            value, hops = inputs[key], hops + 1
        return None if _is_link(value) else value

    def text(self, link: Any) -> str | None:
        """Prompt text behind a conditioning link, through combine/concat/set-area nodes."""
        for _ in range(MAX_HOPS):
            inputs = self.inputs(link)
            if not inputs:
                return None
            for key in TEXT_KEYS:
                if key in inputs:
                    return to_text(self.value(inputs[key], TEXT_KEYS))
            link = next((v for k, v in inputs.items() if _is_link(v) and "conditioning" in k), None)
        return None

    def model(self, link: Any) -> str | None:
        for _ in range(MAX_HOPS):
            inputs = self.inputs(link)
            for key in MODEL_KEYS:
                if isinstance(inputs.get(key), str):
                    return inputs[key]
            link = inputs.get("model")
            if not _is_link(link):
                return None
        return None

    def sampler(self, inputs: dict[str, Any]) -> dict[str, Any]:
        guider = self.inputs(inputs.get("guider"))  # SamplerCustomAdvanced keeps these on a guider node
        source = {**guider, **inputs}
        seed = source.get("seed", source.get("noise_seed"))
        if seed is None and _is_link(source.get("noise")):
            seed = self.value(source["noise"], ("noise_seed", "seed"))
        steps = source.get("steps")
        if steps is None and _is_link(source.get("sigmas")):
            steps = self.value(source["sigmas"], ("steps",))
        name = source.get("sampler_name")
        if name is None and _is_link(source.get("sampler")):
            name = self.value(source["sampler"], ("sampler_name",))
        return {
            "seed": to_int(self.value(seed, ("seed", "noise_seed", "value", "int"))),
            "steps": to_int(self.value(steps, ("steps", "value", "int"))),
            "sampler": to_text(self.value(name, ("sampler_name", "sampler"))),
            "scheduler": to_text(self.value(source.get("scheduler"), ("scheduler",))),
            "cfg_scale": to_float(self.value(source.get("cfg"), ("cfg", "value", "float"))),
            "denoise": to_float(self.value(source.get("denoise"), ("denoise",))),
            "prompt": self.text(source.get("positive")),
            "negative_prompt": self.text(source.get("negative")),
            "model": self.model(source.get("model")),
        }


def _is_sampler(node: dict[str, Any]) -> bool:
    inputs = node.get("inputs")
    return ("Sampler" in str(node.get("class_type", "")) and isinstance(inputs, dict)
            and any(k in inputs for k in SAMPLER_HINTS))


def _summary(tool: str, samplers: list[dict[str, Any]], loaders: list[str]) -> Generation:
    common: dict[str, Any] = {}
    for name in FIELDS:
        values = {repr(s.get(name)) for s in samplers}
        common[name] = samplers[0].get(name) if samplers and len(values) == 1 else None
    if common["model"] is None and len(set(loaders)) == 1:
        common["model"] = loaders[0]
    return Generation(tool=tool, samplers=samplers, **common)


def parse_prompt_graph(graph: dict[str, Any], tool: str = "comfyui") -> Generation:
    """Parse the API-format graph (``{"3": {"class_type": "KSampler", "inputs": {...}}, ...}``)."""
    api = _ApiGraph(graph)
    samplers = [api.sampler(node["inputs"]) for _, node in sorted(api.nodes.items(), key=_node_order)
                if _is_sampler(node)]
    # Samplers that disagree on the model: fall back to the plain checkpoint loader when there is one.
    loaders = [node["inputs"]["ckpt_name"] for node in api.nodes.values()
               if str(node.get("class_type", "")).startswith("CheckpointLoader")
               and isinstance(node.get("inputs"), dict) and isinstance(node["inputs"].get("ckpt_name"), str)]
    return _summary(tool, samplers, loaders)


def _node_order(item: tuple[str, Any]) -> tuple[int, str]:
    key = item[0]
    return (int(key), key) if key.isdigit() else (1 << 62, key)


def parse_workflow(workflow: dict[str, Any], tool: str = "comfyui") -> Generation:
    """Parse the UI-format workflow (``{"nodes": [...], "links": [...]}``): widget values by position."""
    nodes = {n.get("id"): n for n in workflow.get("nodes", []) if isinstance(n, dict)}
    source_of = {ln[0]: ln[1] for ln in workflow.get("links", []) if isinstance(ln, list) and len(ln) >= 2}

    def upstream_text(node: dict[str, Any], name: str) -> str | None:
        for inp in node.get("inputs") or []:
            if isinstance(inp, dict) and inp.get("name") == name:
                widgets = nodes.get(source_of.get(inp.get("link")), {}).get("widgets_values") or []
                return to_text(widgets[0]) if widgets else None
        return None

    samplers, loaders = [], []
    for node in nodes.values():
        kind, widgets = str(node.get("type", "")), node.get("widgets_values")
        if not isinstance(widgets, list):
            continue
        if kind.startswith("CheckpointLoader") and widgets:
            loaders.append(str(widgets[0]))
        offset = {"KSampler": 0, "KSamplerAdvanced": 1}.get(kind)
        if offset is None or len(widgets) < offset + 5:
            continue
        samplers.append({
            "seed": to_int(widgets[offset]), "steps": to_int(widgets[offset + 2]),
            "cfg_scale": to_float(widgets[offset + 3]), "sampler": to_text(widgets[offset + 4]),
            "prompt": upstream_text(node, "positive"), "negative_prompt": upstream_text(node, "negative"),
            "model": None,
        })
    return _summary(tool, samplers, loaders)
