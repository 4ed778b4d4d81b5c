"""PII in free text: Presidio recognisers for UK institutions, redaction, file scans.

    get_analyzer()                 the process-wide Presidio AnalyzerEngine (policy-built)
    get_detector().detect(text)    PiiSpan(entity_type, start, end, score) list
    redact(text, subject_names, subject_tag)
    redact_many(notes, batch_size, n_process)
    scan_texts(texts, batch_size, n_process)
    scan_text_file(in_path, out_path, batch_size, n_process)

On the data path: `steward.pii.case_notes.redact_new_notes()` (case notes into
`redacted.case_notes`) and `steward.pii.columns` (column discovery, `pii_findings`).

Policy (entities on/off, student-id pattern, allow-list, threshold, batch sizes):
`include/policies/pii.yaml`.
"""

from steward.pii.analyzer import build_analyzer, get_analyzer
from steward.pii.detect import Detector, PiiSpan, get_detector
from steward.pii.policy import PiiPolicy, PiiPolicyError, load_pii_policy
from steward.pii.redact import redact, redact_many
from steward.pii.scan import PiiInputError, scan_text_file, scan_texts

__all__ = [
    "Detector",
    "PiiInputError",
    "PiiPolicy",
    "PiiPolicyError",
    "PiiSpan",
    "build_analyzer",
    "get_analyzer",
    "get_detector",
    "load_pii_policy",
    "redact",
    "redact_many",
    "scan_text_file",
    "scan_texts",
]
