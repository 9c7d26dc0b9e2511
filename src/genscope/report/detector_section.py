"""The report's detector section: scores against the threshold, verdicts, and families only where they mean
something (images judged generated, family head at least ``FAMILY_MIN`` sure)."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from genscope.report import svg
from genscope.report.columns import DETECTOR_ERROR, DETECTOR_VERSION, FAMILY, FAMILY_SCORE, SCORE, THRESHOLD, VERDICT
from genscope.report.evidence import FAMILY_MIN, band_of
from genscope.report.sections import Block, Section
from genscope.text import plural


def detector_section(table: pa.Table) -> Section:
    versions = sorted({v for v in table.column(DETECTOR_VERSION).to_pylist() if v})
    rows = table.select([c for c in (SCORE, VERDICT, THRESHOLD, FAMILY,
                                     FAMILY_SCORE, DETECTOR_ERROR) if c in table.column_names]).to_pylist()
    scored = [r for r in rows if r.get(SCORE) is not None]
    threshold = next((r[THRESHOLD] for r in scored if r.get(THRESHOLD) is not None), 0.5)
    low, high = band_of(versions[0] if versions else None)
    section = Section(name="detector", title="Detector", version=", ".join(versions),
                      intro=f"scored {len(scored)} of {table.num_rows} inputs; threshold {threshold:g} (red line), "
                            f"uncertain between {low:g} and {high:g}")
    if scored:
        scores = [r[SCORE] for r in scored]
        section.blocks.append(Block("score (0 = real, 1 = generated)", svg.histogram(scores, marker=threshold),
                                    f"{sum(s >= threshold for s in scores)} at or above the threshold"))
        verdicts = Counter(r[VERDICT] for r in scored)
        section.blocks.append(Block("verdict", svg.bars([(v, verdicts[v]) for v in ("generated", "uncertain", "real")
                                                         if verdicts[v]])))
        judged = [r for r in scored if r.get(VERDICT) == "generated"]
        sure = Counter(r[FAMILY] for r in judged
                       if r.get(FAMILY) and (r.get(FAMILY_SCORE) or 0) >= FAMILY_MIN)
        section.blocks.append(Block("generator family", svg.bars(sure.most_common(12)),
                                    f"of the {len(judged)} judged generated, the {sum(sure.values())} whose family "
                                    f"head is at least {FAMILY_MIN} sure; a hint about the generator, not proof"))
    errors = Counter(r[DETECTOR_ERROR].split(":", 1)[0] for r in rows if r.get(DETECTOR_ERROR))
    if errors:
        section.blocks.append(Block("no score", svg.bars(errors.most_common(10)),
                                    f"{plural(sum(errors.values()), 'input')} the detector could not score"))
    return section
