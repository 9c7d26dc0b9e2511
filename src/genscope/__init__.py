"""genscope: audit image collections for AI-generated content."""

__version__ = "0.1.0"

from genscope.api import ScanError, ScanResult, scan
from genscope.models.detector import Detector
from genscope.provenance_api import provenance
from genscope.records import read_records
from genscope.replication_api import build_index, dedup, memorization, replicate

__all__ = ["Detector", "ScanError", "ScanResult", "__version__", "build_index", "dedup", "memorization", "provenance",
           "read_records", "replicate", "scan"]
