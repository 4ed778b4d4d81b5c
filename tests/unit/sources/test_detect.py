"""Detection: each shared real file goes to the adapter for its format, and a file no
adapter knows raises UnknownFormatError naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.sources import UnknownFormatError, detect

# file under shared/data -> adapter, or None when no adapter reads that format yet
SHARED_FILES = [
    ("oulad/courses.csv", "oulad_courses"),
    ("oulad/studentInfo.csv", "oulad_student_info"),
    ("oulad/studentRegistration.csv", "oulad_student_registration"),
    ("oulad/assessments.csv", "oulad_assessments"),
    ("oulad/studentAssessment.csv", "oulad_student_assessment"),
    ("oulad/vle.csv", "oulad_vle"),
    ("oulad/studentVle_head13905.csv", "oulad_student_vle"),
    ("oulad/OULAD.names", None),
    ("xapi/jisc/recipes/attendance/tsv/attendance.tsv", "jisc_attendance"),
    ("xapi/jisc/recipes/library/tsv/borrowed.tsv", "jisc_library_loans"),
    ("xapi/jisc/recipes/access/tsv/access.tsv", None),
    ("xapi/jisc/recipes/login/tsv/logged_in.tsv", None),
    ("xapi/jisc/recipes/vle/tsv/viewed.tsv", None),
    ("xapi/jisc/recipes/video/tsv/video.tsv", None),
    ("xapi/jisc/recipes/attendance/uxapi/attendance-template.json", "xapi_document"),
    ("xapi/jisc/recipes/vle/uxapi/vle-resourceviewed-template.json", "xapi_document"),
    ("xapi/jisc/vle/moodle/login.js", "xapi_document"),
    ("xapi/jisc/vle/moodle/assignment_submitted.json", "xapi_document"),
    ("xapi/jisc/vle/blackboard/loggedin.json", "xapi_document"),
    ("xapi/adl_spec/adl_xapi_spec_example_statements.json", "xapi_document"),
]


@pytest.mark.parametrize(("file", "adapter"), SHARED_FILES, ids=[f for f, _ in SHARED_FILES])
def test_when_a_shared_file_is_detected_then_its_adapter_is_chosen(shared_data, file, adapter):
    path = shared_data / file
    if adapter is None:
        with pytest.raises(UnknownFormatError, match=path.name):
            detect(path)
    else:
        assert detect(path)[0].name == adapter


@pytest.mark.parametrize(
    ("name", "header", "message"),
    [
        ("mystery.csv", "colour,flavour,price\n", "no known format has this header"),
        ("mystery.tsv", "COLOUR\tFLAVOUR\tPRICE\n", "no known format has this header"),
        ("mystery.parquet", "PAR1", "unsupported file type '.parquet'"),
    ],
)
def test_when_a_header_is_unknown_then_unknown_format_error_names_the_file(
    tmp_path: Path, name, header, message
):
    path = tmp_path / name
    path.write_text(header)
    with pytest.raises(UnknownFormatError, match=rf"mystery\.\w+: {message}"):
        detect(path)


def test_when_an_oulad_file_lacks_an_optional_column_then_it_is_still_detected(tmp_path: Path):
    path = tmp_path / "studentInfo.csv"
    path.write_text('"code_module","code_presentation","id_student","gender","final_result"\n')
    adapter, delimiter = detect(path)
    assert (adapter.name, delimiter) == ("oulad_student_info", ",")
