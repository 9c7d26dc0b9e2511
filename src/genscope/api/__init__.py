"""The public API, one module per capability; each call returns a result with ``.summary``, its tables,
``.report()`` and (where it writes files) ``.save()``.

- ``scan``: sources → signals → records, summary and report (``scan.py``);
- ``detect``: the detector alone, streaming verdicts (``detect.py``);
- ``provenance``: the proof that needs no model (``provenance.py``);
- ``copies``: ``build_index``, ``replicate``, ``dedup``, ``memorization`` (``copies.py``);
- ``audit``: the generated share with its interval, diversity, shortcuts (``audit.py``);
- ``clean``: a keep-list that meets a generated-share target (``clean.py``);
- ``bias``: who appears, skin-tone shares of faces per group against real images (``bias.py``).
"""

from genscope.api.audit import AuditResult, audit
from genscope.api.bias import BiasResult, bias
from genscope.api.clean import CleanResult, clean
from genscope.api.copies import build_index, dedup, memorization, replicate
from genscope.api.detect import detect_files
from genscope.api.provenance import provenance
from genscope.api.scan import ScanError, ScanResult, scan

__all__ = ["AuditResult", "BiasResult", "CleanResult", "ScanError", "ScanResult", "audit", "bias", "build_index",
           "clean", "dedup", "detect_files", "memorization", "provenance", "replicate", "scan"]
