"""genscope: audit image collections for AI-generated content."""

__version__ = "0.1.0"

from genscope.api import (
    AuditResult,
    BiasResult,
    CleanResult,
    ScanError,
    ScanResult,
    audit,
    bias,
    build_index,
    clean,
    dedup,
    detect_files,
    memorization,
    provenance,
    replicate,
    scan,
)
from genscope.api.copies import DescriptorChoice
from genscope.errors import CodedError, GenscopeError, InputError, RunError
from genscope.models.detector import Detector
from genscope.records import read_records

__all__ = ["AuditResult", "BiasResult", "CleanResult", "CodedError", "DescriptorChoice", "Detector", "GenscopeError",
           "InputError", "RunError", "ScanError", "ScanResult", "__version__", "audit", "bias", "build_index", "clean",
           "dedup", "detect_files", "memorization", "provenance", "read_records", "replicate", "scan"]
