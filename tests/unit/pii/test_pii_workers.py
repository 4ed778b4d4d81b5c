"""PII worker processes started from a process whose `__main__` is not ours.

In an Airflow 3 task process `__main__` is Airflow's entry point, whose start-up fails
in a worker (the task may not use the metadata database); multiprocessing's spawn ran
it again in every worker and `multiprocessing.Pool` replaced each dead worker for ever.
dag.test() under pytest does not show it (there `__main__` is pytest), so these tests
start a Python process of their own whose main module behaves like Airflow's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from steward.pii.detect import Detector, PiiWorkerError

# Runs as the parent's main module. Like Airflow's entry point it has a start-up at
# import, which in any other process than the first leaves a mark and fails.
MAIN = """
import os

os.environ.setdefault("SIDE_EFFECT_MAIN_PID", str(os.getpid()))
if os.environ["SIDE_EFFECT_MAIN_PID"] != str(os.getpid()):
    with open(os.environ["SIDE_EFFECT_MARKS"], "a") as marks:
        marks.write(f"{os.getpid()}\\n")
    raise SystemExit("a worker ran the parent's main module")

if __name__ == "__main__":
    import json
    import sys
    from dataclasses import replace

    import psutil

    from steward.pii.detect import Detector, get_detector

    detector = get_detector()
    # blocks of 4 texts: 12 texts are more than one block, so they go to the workers
    small_blocks = Detector(detector.analyzer, replace(detector.policy, memory_zone_docs=4))
    texts = [(i, f"Met Amelia Clarke (S123456{i % 10}) about CS101, note {i}.") for i in range(12)]
    workers, spans = set(), []
    for _key, found in small_blocks.detect_many(texts, batch_size=4, n_process=2):
        workers |= {
            child.pid
            for child in psutil.Process().children()
            if "spawn_main" in " ".join(child.cmdline())
        }
        spans.append([list(span) for span in found])
    json.dump({"workers": len(workers), "texts": texts, "spans": spans}, sys.stdout)
"""


@pytest.mark.parametrize("run_as", ["script", "module"])
def test_when_parent_main_has_start_up_code_then_workers_finish_without_running_it(
    tmp_path, detector, run_as
):
    (tmp_path / "side_effect_main.py").write_text(textwrap.dedent(MAIN))
    marks = tmp_path / "marks"
    command = {
        "script": [sys.executable, "side_effect_main.py"],  # Airflow's console script
        "module": [sys.executable, "-m", "side_effect_main"],  # `python -m airflow`
    }[run_as]
    env = {**os.environ, "SIDE_EFFECT_MARKS": str(marks)}
    env.pop("SIDE_EFFECT_MAIN_PID", None)
    try:
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
        )
    except subprocess.TimeoutExpired:
        worker_starts = len(marks.read_text().splitlines()) if marks.exists() else 0
        pytest.fail(f"hung; workers that ran the parent's main module: {worker_starts}")

    assert done.returncode == 0, done.stderr[-3000:]
    assert not marks.exists(), "a worker ran the parent's main module"
    result = json.loads(done.stdout)
    assert result["workers"] == 2
    expected = [[list(span) for span in detector.detect(text)] for _, text in result["texts"]]
    assert result["spans"] == expected
    assert all({"PERSON", "STUDENT_ID"} <= {span[0] for span in spans} for spans in expected)


@pytest.mark.timeout(180)
def test_when_a_worker_fails_at_start_then_detection_raises_instead_of_replacing_it(detector):
    # Every worker builds its own analyzer from the policy; this model does not exist.
    broken = Detector(
        detector.analyzer,
        replace(detector.policy, model="no_such_spacy_model", memory_zone_docs=4),
    )
    texts = [(i, f"Met Amelia Clarke, note {i}.") for i in range(12)]
    with pytest.raises(PiiWorkerError, match=r"set 'batch\.n_process: 1' in include/policies"):
        list(broken.detect_many(texts, batch_size=4, n_process=2))


def test_when_input_is_one_block_then_no_worker_is_started(detector, monkeypatch):
    def no_workers(*args, **kwargs):
        raise AssertionError("workers started for one block of input")

    monkeypatch.setattr(Detector, "_detect_in_workers", no_workers)
    one_block = Detector(detector.analyzer, replace(detector.policy, memory_zone_docs=4))
    texts = [(i, f"Met Amelia Clarke, note {i}.") for i in range(4)]
    found = list(one_block.detect_many(texts, batch_size=4, n_process=2))
    assert [key for key, _ in found] == [0, 1, 2, 3]
    assert all(spans[0].entity_type == "PERSON" for _, spans in found)
