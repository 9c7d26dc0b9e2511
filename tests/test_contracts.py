"""Every registered signal, engine and copy descriptor honours its contract: a new entry that does not
fails here, before any scan runs it."""

from __future__ import annotations

import importlib
import inspect

import pyarrow as pa
import pytest

from genscope.engine.base import ENGINES, Engine, EngineOptions, create_engine
from genscope.models.descriptor import REGISTRY as DESCRIPTORS
from genscope.signals import REGISTRY as SIGNALS
from genscope.signals import signal_class
from genscope.signals.base import Signal


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_every_registered_signal_declares_what_the_records_need(name: str) -> None:
    cls = signal_class(name)
    assert isinstance(cls.name, str) and cls.name and "." not in cls.name
    assert isinstance(cls.version, str) and cls.version
    assert isinstance(cls.schema, pa.Schema) and len(cls.schema) > 0
    assert not {"version", "error"} & set(cls.schema.names)  # the engine adds those two columns itself
    assert isinstance(cls.needs_image, bool)
    assert list(inspect.signature(cls.compute).parameters) == ["self", "batch"]
    assert set(Signal.__annotations__) <= set(dir(cls))  # name, version, schema, needs_image


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_registered_engine_runs_units(name: str) -> None:
    module, _, attr = ENGINES[name].partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except ImportError as exc:  # an engine whose extra is not installed (Ray) still names a real class
        pytest.skip(f"{name}: {exc}")
    engine = create_engine(EngineOptions(name))
    assert isinstance(engine, cls)
    assert _positional(cls.run) == _positional(Engine.run) == ["self", "units", "job", "progress"]


def _positional(method) -> list[str]:
    """The parameters every caller passes (an engine may add keyword-only extras of its own)."""
    return [n for n, p in inspect.signature(method).parameters.items() if p.kind is not p.KEYWORD_ONLY]


@pytest.mark.parametrize("name", sorted(DESCRIPTORS))
def test_every_copy_descriptor_names_a_signal_and_sensible_thresholds(name: str) -> None:
    spec = DESCRIPTORS[name]
    cls = signal_class(spec.signal)
    assert cls.name.startswith("descriptor")
    assert "vector" in cls.schema.names
    assert -1.0 < spec.copy < spec.duplicate <= 1.0
    assert spec.path in (None, "file", "folder")


def test_readers_name_columns_through_the_signals_declarations() -> None:
    from genscope.analyses.audit import PROVENANCE, SCORE
    from genscope.signals import column

    assert (SCORE, PROVENANCE) == ("detector.ai_score", "provenance.ai")
    assert column("phash", "version") == "phash.version" and column("container", "error") == "container.error"
    with pytest.raises(KeyError, match="declares no field 'score'"):
        column("detector", "score")


def test_report_and_analyses_name_only_columns_a_signal_or_the_schema_declares() -> None:
    """A string in report/ or analyses/ that names a signal's column (``<signal>.<field>``) must be one the signal
    declares, and none is spelt out: they come from ``signals.column`` (report/columns.py, the analyses' own
    constants). Error codes are built from the classes that raise them, so they cannot pass for columns."""
    import ast
    import re
    from pathlib import Path

    from genscope.signals import column

    package = Path(importlib.import_module("genscope").__file__).parent
    dotted = re.compile(r"^([a-z][a-z0-9_-]*)\.([a-z0-9_.]+)$")
    names = {signal_class(name).name for name in SIGNALS}
    undeclared, spelt = [], []
    for module in sorted([*package.glob("report/*.py"), *package.glob("analyses/*.py")]):
        for node in ast.walk(ast.parse(module.read_text())):
            match = dotted.match(node.value) if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
            if match is None or match.group(1) not in names:
                continue
            where = f"{module.relative_to(package)}:{node.lineno} {node.value!r}"
            try:
                column(*match.groups())
            except KeyError:
                undeclared.append(where)
            spelt.append(where)
    assert not undeclared, f"columns no signal declares: {undeclared}"
    assert not spelt, f"signal columns spelt as literals (use signals.column): {spelt}"
