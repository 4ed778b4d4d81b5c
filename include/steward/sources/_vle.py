"""VLE activity as xAPI statements (Jisc recipes), written in shards.

A shard covers a contiguous range of student-module enrolments and writes three files,
one per export form:

- ``vle/xapi-NNNN.jsonl``: plain statements;
- ``vle/moodle-NNNN.jsonl``: the Moodle / Learning Locker export (dots in extension
  keys escaped as ``&46;``, ``authority`` and ``stored`` added; a login's courseArea is
  ``[]`` as Moodle writes it);
- ``vle/lrs-NNNN.jsonl``: LRS envelopes ``{"_id", "active", "voided", "timestamp",
  "stored", "statement"}``.

Statements (verb IRI; object definition type), per the Jisc recipes and vocabulary:

- login: ``https://brindlewaye.com/xAPITerms/verbs/loggedin``; the VLE as
  ``http://activitystrea.ms/schema/1.0/application``; no courseArea;
- course view: ``http://id.tincanapi.com/verb/viewed``;
  ``http://adlnet.gov/expapi/activities/course``;
- resource view: viewed; ``http://xapi.jisc.ac.uk/vle/page`` or ``.../vle/file``;
- forum post: ``http://activitystrea.ms/schema/1.0/create``;
  ``http://xapi.jisc.ac.uk/forum-post``, text in ``result.response``;
- assignment submitted: ``http://adlnet.gov/expapi/verbs/completed`` (the Jisc
  assignment-submitted recipe's verb); ``http://adlnet.gov/expapi/activities/assessment``
  with a ``dueDate`` extension;
- quiz completed: completed; ``http://xapi.jisc.ac.uk/vle/quiz``, ``result.score``.

Every non-login statement carries ``context.extensions["http://xapi.jisc.ac.uk/courseArea"]
["http://xapi.jisc.ac.uk/vle_mod_id"]`` = MOD_INSTANCE_ID; every statement carries
``http://xapi.jisc.ac.uk/sessionId`` and ``http://id.tincanapi.com/extension/ip-address``.

Each session (and each assignment or quiz statement) goes to one form: about 50/30/20.
A shard's bytes depend only on (seed, shard) and the enrolment arrays the parent hands
it, so shards can be written by any number of processes in any order.

Statements are built column-at-a-time (see `_columns`): each (form, kind) has a
template compiled once from a skeleton dict, whose literal pieces are joined with
Arrow columns of values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from steward.sources import _catalogue as cat
from steward.sources import _columns as col

LOGIN, COURSE, RESOURCE, FORUM, ASSIGNMENT, QUIZ = range(6)
KIND_NAMES = ("login", "course_view", "resource_view", "forum_post", "assignment", "quiz")
FORMS = ("xapi", "moodle", "lrs")
FORM_SHARE = (0.5, 0.3, 0.2)
SESSION_KIND_SHARE = ((COURSE, 0.30), (RESOURCE, 0.62), (FORUM, 0.08))
STATEMENTS_PER_SESSION = 7
RESOURCES_PER_MODULE = 40
THREADS_PER_MODULE = 20
ASSIGNMENTS_PER_MODULE = 3
QUIZZES_PER_MODULE = 6
CHUNK_ROWS = 200_000
# Share of sessions by UTC hour (students study late).
HOUR_WEIGHTS = np.array(
    [2, 1, 0.5, 0.2, 0.1, 0.2, 0.5, 1.5, 3, 5, 6, 6, 5, 6, 6, 6, 5, 5, 5, 6, 7, 7, 6, 4],
    dtype=float,
)
HOUR_WEIGHTS /= HOUR_WEIGHTS.sum()

JISC = "http://xapi.jisc.ac.uk/"
COURSE_AREA = JISC + "courseArea"
IP_KEY = "http://id.tincanapi.com/extension/ip-address"
VERBS = {
    LOGIN: ("https://brindlewaye.com/xAPITerms/verbs/loggedin", "logged in to"),
    COURSE: ("http://id.tincanapi.com/verb/viewed", "viewed"),
    RESOURCE: ("http://id.tincanapi.com/verb/viewed", "viewed"),
    FORUM: ("http://activitystrea.ms/schema/1.0/create", "create"),
    ASSIGNMENT: ("http://adlnet.gov/expapi/verbs/completed", "completed"),
    QUIZ: ("http://adlnet.gov/expapi/verbs/completed", "completed"),
}


@dataclass
class ModuleCatalogue:
    """What the VLE knows about each module instance (index = module instance index)."""

    key: str  # identifies the catalogue for the per-process fragment cache
    instance_ids: list[str]
    module_ids: list[str]
    module_names: list[str]
    starts: np.ndarray  # epoch seconds of each instance's first teaching day
    assignment_due: np.ndarray  # (n, 3) epoch seconds
    quiz_open: np.ndarray  # (n, 6) epoch seconds


@dataclass
class ShardTask:
    shard: int
    out_dir: str
    seed: int
    student_ids: list[str]
    catalogue: ModuleCatalogue
    student: np.ndarray  # per enrolment: student index
    instance: np.ndarray  # per enrolment: module instance index
    window_start: np.ndarray  # per enrolment: epoch seconds, inclusive
    window_end: np.ndarray  # per enrolment: epoch seconds, exclusive
    session_statements: np.ndarray  # per enrolment
    # Assignment and quiz statements, sorted by enrolment (local index into the arrays above).
    structured: dict[str, np.ndarray] = field(default_factory=dict)


# --- templates -------------------------------------------------------------------------


def _moodle_keys(obj):
    """Escape dots in the keys of every `extensions` object, as Moodle's export does."""
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key == "extensions" and isinstance(value, dict):
                out[key] = _escape_tree(value)
            else:
                out[key] = _moodle_keys(value)
        return out
    if isinstance(obj, list):
        return [_moodle_keys(v) for v in obj]
    return obj


def _escape_tree(obj):
    if isinstance(obj, dict):
        return {k.replace(".", "&46;"): _escape_tree(v) for k, v in obj.items()}
    return obj


def _for_form(obj, form: str):
    return _moodle_keys(obj) if form == "moodle" else obj


def _fragment(obj, form: str) -> str:
    return orjson.dumps(_for_form(obj, form)).decode()


_PLACEHOLDER = re.compile(r'"@@[!#](\w+)@@"|@@(\w+)@@')


def compile_template(skeleton: dict) -> list[str | tuple[str]]:
    """Literal strings and ``(field,)`` tuples; fields marked ``@@!name@@`` (raw JSON) or
    ``@@#name@@`` (number) lose their quotes, ``@@name@@`` is spliced inside a string."""
    pieces: list[str | tuple[str]] = []
    text = orjson.dumps(skeleton).decode() + "\n"
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        pieces.append(text[pos : match.start()])
        pieces.append((match.group(1) or match.group(2),))
        pos = match.end()
    pieces.append(text[pos:])
    return [p for p in pieces if p != ""]


def _statement_skeleton(kind: int, form: str) -> dict:
    verb_id, verb_display = VERBS[kind]
    st: dict = {}
    if form == "moodle":
        st["authority"] = {
            "mbox": "mailto:analytics@example.ac.uk",
            "name": "Moodle",
            "objectType": "Agent",
        }
        st["stored"] = "@@stored@@"
    st["id"] = "@@id@@"
    st["timestamp"] = "@@ts@@"
    st["actor"] = {"objectType": "Agent", "account": {"homePage": cat.VLE_HOME, "name": "@@sid@@"}}
    st["verb"] = {"id": verb_id, "display": {"en": verb_display}}
    if kind == LOGIN:
        st["object"] = {
            "objectType": "Activity",
            "id": cat.VLE_HOME,
            "definition": {
                "type": "http://activitystrea.ms/schema/1.0/application",
                "name": {"en": f"{cat.INSTITUTION} VLE"},
                "extensions": {JISC + "subType": "http://id.tincanapi.com/activitytype/lms"},
            },
        }
    else:
        st["object"] = "@@!obj@@"
    if kind == QUIZ:
        st["result"] = {
            "completion": True,
            "score": {"raw": "@@#raw@@", "min": 0, "max": 100, "scaled": "@@#scaled@@"},
        }
    elif kind == FORUM:
        st["result"] = {"response": "@@response@@"}
    context: dict = {"platform": "Moodle"}
    if kind == FORUM:
        context["contextActivities"] = {"parent": [{"id": "@@forum@@", "objectType": "Activity"}]}
    # Extension sets follow each source: the Jisc recipe templates (xapi), the Moodle
    # plugin's export (moodle) and Learning Locker statements from Blackboard (lrs).
    ext: dict = {}
    if kind != LOGIN:
        ext[COURSE_AREA] = "@@!area@@"
    elif form == "moodle":
        ext[COURSE_AREA] = []
    if form == "xapi":
        ext[JISC + "recipeCat"] = "VLE"
    elif form == "lrs":
        ext[JISC + "recipeVersion"] = "1.0"
    ext[JISC + "sessionId"] = "@@sess@@"
    ext[IP_KEY] = "@@ip@@"
    if form != "lrs":
        ext[JISC + "version"] = "1.1.1" if form == "xapi" else "1.0"
    if kind == QUIZ:
        ext[JISC + "attempt"] = "1"
    context["extensions"] = ext
    st["context"] = context
    st["version"] = "1.0.0"
    st = _for_form(st, form)
    if form == "lrs":
        st["stored"] = "@@stored@@"
        st["authority"] = {
            "objectType": "Agent",
            "name": "Learning Locker client",
            "mbox": "mailto:lrs@example.ac.uk",
        }
        return {
            "_id": "@@lrs_id@@",
            "active": True,
            "voided": False,
            "timestamp": "@@ts@@",
            "stored": "@@stored@@",
            "statement": st,
        }
    return st


TEMPLATES = {
    (form, kind): compile_template(_statement_skeleton(kind, form))
    for form in FORMS
    for kind in range(6)
}


def _activity(url: str, type_: str, name: str, extensions: dict | None = None) -> dict:
    definition: dict = {"type": type_, "name": {"en": name}}
    if extensions:
        definition["extensions"] = extensions
    return {"objectType": "Activity", "id": url, "definition": definition}


def _iso(epoch: int) -> str:
    return bytes(col.iso_chars(np.array([epoch]))[0]).decode() + "Z"


def _fragments(catalogue: ModuleCatalogue, form: str) -> dict[str, pa.Array]:
    """Per-module-instance JSON fragments (objects, courseArea) for one form."""
    area, course, resources, threads, assignments, quizzes, forums = [], [], [], [], [], [], []
    for i, (inst, mod, name) in enumerate(
        zip(catalogue.instance_ids, catalogue.module_ids, catalogue.module_names, strict=True)
    ):
        course_area = {JISC + "vle_mod_id": inst}
        if form == "xapi":
            course_area[JISC + "uddModInstanceID"] = inst
        # The courseArea value sits inside `extensions`, so Moodle escapes its keys too.
        area.append(
            _fragment(_escape_tree(course_area) if form == "moodle" else course_area, "xapi")
        )
        course.append(
            _fragment(
                _activity(
                    f"{cat.VLE_HOME}/course/view.php?id={100 + i}",
                    "http://adlnet.gov/expapi/activities/course",
                    f"{mod} {name}",
                ),
                form,
            )
        )
        base = 1000 + 100 * i
        for k in range(RESOURCES_PER_MODULE):
            label, type_, path = cat.RESOURCE_KINDS[(k % 2) * 2 + (k // 2) % 2]
            resources.append(
                _fragment(
                    _activity(
                        f"{cat.VLE_HOME}/mod/{path}/view.php?id={base + k}",
                        type_,
                        f"Week {k // 2 + 1} {label}",
                        {JISC + "subType": type_},
                    ),
                    form,
                )
            )
        forums.append(f"{cat.VLE_HOME}/mod/forum/view.php?id={base + 60}")
        for d in range(THREADS_PER_MODULE):
            threads.append(
                _fragment(
                    _activity(
                        f"{cat.VLE_HOME}/mod/forum/discuss.php?d={i * THREADS_PER_MODULE + d + 1}",
                        JISC + "forum-post",
                        "Forum post",
                    ),
                    form,
                )
            )
        for a in range(ASSIGNMENTS_PER_MODULE):
            assignments.append(
                _fragment(
                    _activity(
                        f"{cat.VLE_HOME}/mod/assign/view.php?id={base + 40 + a}",
                        "http://adlnet.gov/expapi/activities/assessment",
                        f"{mod} Assignment {a + 1}",
                        {JISC + "dueDate": _iso(int(catalogue.assignment_due[i, a]))},
                    ),
                    form,
                )
            )
        for q in range(QUIZZES_PER_MODULE):
            quizzes.append(
                _fragment(
                    _activity(
                        f"{cat.VLE_HOME}/mod/quiz/view.php?id={base + 50 + q}",
                        JISC + "vle/quiz",
                        f"{mod} Quiz {q + 1}",
                    ),
                    form,
                )
            )
    return {
        "area": pa.array(area),
        "course": pa.array(course),
        "resource": pa.array(resources),
        "thread": pa.array(threads),
        "assignment": pa.array(assignments),
        "quiz": pa.array(quizzes),
        "forum": pa.array(forums),
    }


_FRAGMENT_CACHE: dict[str, dict[str, dict[str, pa.Array]]] = {}


def fragments(catalogue: ModuleCatalogue) -> dict[str, dict[str, pa.Array]]:
    if catalogue.key not in _FRAGMENT_CACHE:
        _FRAGMENT_CACHE.clear()
        _FRAGMENT_CACHE[catalogue.key] = {f: _fragments(catalogue, f) for f in FORMS}
    return _FRAGMENT_CACHE[catalogue.key]


_RESPONSES = pa.array([orjson.dumps(r).decode()[1:-1] for r in cat.FORUM_RESPONSES])
_SCALED = pa.array(["0" if r == 0 else "1" if r == 100 else f"{r / 100:g}" for r in range(101)])


# --- rows ------------------------------------------------------------------------------


def _session_rows(rng: np.random.Generator, task: ShardTask, lo: int, hi: int) -> dict:
    counts = task.session_statements[lo:hi]
    enrol = np.repeat(np.arange(lo, hi), counts)
    n = enrol.shape[0]
    per_enrol_sessions = np.maximum(1, -(-counts // STATEMENTS_PER_SESSION))
    local = (rng.random(n) * per_enrol_sessions[enrol - lo]).astype(np.int64)
    order = np.lexsort((local, enrol))
    enrol, local = enrol[order], local[order]
    first = np.ones(n, dtype=bool)
    first[1:] = (enrol[1:] != enrol[:-1]) | (local[1:] != local[:-1])
    session = np.cumsum(first) - 1
    n_sessions = int(session[-1]) + 1 if n else 0
    session_enrol = enrol[first]

    ws = task.window_start[session_enrol]
    we = task.window_end[session_enrol]
    days = np.maximum(1, (we - ws) // 86400)
    day = (rng.random(n_sessions) * days).astype(np.int64)
    hour = rng.choice(24, size=n_sessions, p=HOUR_WEIGHTS)
    start = (ws // 86400 + day) * 86400 + hour * 3600 + rng.integers(0, 3600, n_sessions)
    start = np.clip(start, ws, np.maximum(ws, we - 3600))

    gaps = rng.exponential(95.0, n).astype(np.int64) + 5
    gaps[first] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= elapsed[first][session]
    t = np.minimum(start[session] + elapsed, task.window_end[enrol] - 1)

    kinds = np.array([k for k, _ in SESSION_KIND_SHARE])
    kind = kinds[rng.choice(len(kinds), size=n, p=[p for _, p in SESSION_KIND_SHARE])]
    kind[first] = LOGIN
    weeks_in = np.maximum(0, (t - task.catalogue.starts[task.instance[enrol]]) // (7 * 86400))
    available = np.clip(2 * (weeks_in + 1), 2, RESOURCES_PER_MODULE)
    item = np.where(
        kind == RESOURCE,
        (rng.random(n) * available).astype(np.int64),
        rng.integers(0, THREADS_PER_MODULE, n),
    )
    form = rng.choice(3, size=n_sessions, p=FORM_SHARE)
    return {
        "enrol": enrol,
        "t": t,
        "kind": kind,
        "item": item,
        "score": np.zeros(n, dtype=np.int64),
        "session": session,
        "n_sessions": n_sessions,
        "session_form": form,
    }


def _rows(rng: np.random.Generator, task: ShardTask, lo: int, hi: int) -> dict:
    """Every statement of enrolments [lo, hi), ordered by enrolment then time."""
    s = _session_rows(rng, task, lo, hi)
    st = task.structured
    a, b = np.searchsorted(st["enrol"], [lo, hi])
    m = int(b - a)
    n_sessions = s["n_sessions"] + m  # each assignment/quiz statement is its own session
    enrol = np.concatenate([s["enrol"], st["enrol"][a:b]])
    t = np.concatenate([s["t"], st["t"][a:b]])
    order = np.lexsort((t, enrol))
    form = np.concatenate([s["session_form"], rng.choice(3, size=m, p=FORM_SHARE)])
    session = np.concatenate([s["session"], s["n_sessions"] + np.arange(m)])[order]
    return {
        "enrol": enrol[order],
        "t": t[order],
        "kind": np.concatenate([s["kind"], st["kind"][a:b]])[order],
        "item": np.concatenate([s["item"], st["item"][a:b]])[order],
        "score": np.concatenate([s["score"], st["score"][a:b]])[order],
        "session": session,
        "form": form[session],
        "session_ids": col.alnum_ids(rng, n_sessions, 10),
        "ips": _ips(rng, n_sessions),
    }


def _ips(rng: np.random.Generator, n: int) -> pa.Array:
    """Campus (eduroam 10.x) for 40% of sessions, otherwise typical UK ISP ranges."""
    first = np.where(
        rng.random(n) < 0.4, 10, rng.choice([2, 31, 51, 62, 78, 81, 86, 90, 92, 109, 151, 176], n)
    )
    octets = [first, rng.integers(0, 256, n), rng.integers(0, 256, n), rng.integers(1, 255, n)]
    pieces: list = []
    for o in octets:
        pieces += [col.ints(o), "."]
    return col.join(pieces[:-1])


def _times(rng: np.random.Generator, t: np.ndarray, form: str) -> dict[str, pa.Array]:
    n = t.shape[0]
    if form == "xapi":
        return {"ts": col.timestamps(t, "Z")}
    if form == "moodle":
        delay_us = rng.integers(50_000, 3_000_000, n)
        stored = t * 1_000_000 + rng.integers(0, 1_000_000, n) + delay_us
        return {
            "ts": col.timestamps(t, "+00:00"),
            "stored": col.timestamps(stored // 1_000_000, "+00:00", stored % 1_000_000, 6),
        }
    ms = rng.integers(0, 1000, n)
    stored = t * 1000 + ms + rng.integers(20, 4000, n)
    return {
        "ts": col.timestamps(t, "Z", ms, 3),
        "stored": col.timestamps(stored // 1000, "Z", stored % 1000, 3),
        "lrs_id": col.hex_ids(rng, n, 24),
    }


def _render(form: str, kind: int, fields: dict[str, pa.Array]) -> pa.Array:
    return col.join([p if isinstance(p, str) else fields[p[0]] for p in TEMPLATES[(form, kind)]])


def _form_lines(
    rng: np.random.Generator,
    task: ShardTask,
    student_ids: pa.Array,
    rows: dict,
    form_index: int,
    frags: dict,
) -> tuple[pa.Array, np.ndarray]:
    """Lines of one form, in row order, and the kinds of those rows."""
    form = FORMS[form_index]
    idx = np.flatnonzero(rows["form"] == form_index)
    sel_kind = rows["kind"][idx]
    base = {
        "id": col.uuid4s(rng, idx.shape[0]),
        **_times(rng, rows["t"][idx], form),
    }
    enrol = rows["enrol"][idx]
    inst = task.instance[enrol]
    item = rows["item"][idx]
    f = frags[form]
    parts, positions = [], []
    for kind in range(6):
        k = np.flatnonzero(sel_kind == kind)
        if not k.shape[0]:
            continue
        fields = {name: col.take(arr, k) for name, arr in base.items()}
        fields["sid"] = col.take(student_ids, task.student[enrol[k]])
        fields["sess"] = col.take(rows["session_ids"], rows["session"][idx[k]])
        fields["ip"] = col.take(rows["ips"], rows["session"][idx[k]])
        i = inst[k]
        if kind != LOGIN:
            fields["area"] = col.take(f["area"], i)
        if kind == COURSE:
            fields["obj"] = col.take(f["course"], i)
        elif kind == RESOURCE:
            fields["obj"] = col.take(f["resource"], i * RESOURCES_PER_MODULE + item[k])
        elif kind == FORUM:
            fields["obj"] = col.take(f["thread"], i * THREADS_PER_MODULE + item[k])
            fields["forum"] = col.take(f["forum"], i)
            fields["response"] = col.take(_RESPONSES, rng.integers(0, len(_RESPONSES), k.shape[0]))
        elif kind == ASSIGNMENT:
            fields["obj"] = col.take(f["assignment"], i * ASSIGNMENTS_PER_MODULE + item[k])
        elif kind == QUIZ:
            fields["obj"] = col.take(f["quiz"], i * QUIZZES_PER_MODULE + item[k])
            score = rows["score"][idx[k]]
            fields["raw"] = col.ints(score)
            fields["scaled"] = col.take(_SCALED, score)
        parts.append(_render(form, kind, fields))
        positions.append(k)
    if not parts:
        return pa.array([], pa.string()), sel_kind
    order = np.argsort(np.concatenate(positions), kind="stable")
    lines = pa.concat_arrays(parts).take(pa.array(order))
    return lines, sel_kind


def _chunks(counts: np.ndarray, limit: int) -> list[tuple[int, int]]:
    bounds, lo, total = [], 0, 0
    for i, c in enumerate(counts.tolist()):
        if total and total + c > limit:
            bounds.append((lo, i))
            lo, total = i, 0
        total += c
    if lo < len(counts):
        bounds.append((lo, len(counts)))
    return bounds


def write_shard(task: ShardTask) -> dict:
    """Write one shard's three files; return row counts, sizes and sha256 per file."""
    rng = np.random.default_rng([task.seed, 0x7A1E, task.shard])
    frags = fragments(task.catalogue)
    student_ids = pa.array(task.student_ids)
    out = Path(task.out_dir) / "vle"
    writers = {form: col.HashingWriter(out / f"{form}-{task.shard:04d}.jsonl") for form in FORMS}
    by_kind = np.zeros(6, dtype=np.int64)
    structured_per_enrol = np.bincount(task.structured["enrol"], minlength=task.student.shape[0])
    try:
        for lo, hi in _chunks(task.session_statements + structured_per_enrol, CHUNK_ROWS):
            rows = _rows(rng, task, lo, hi)
            for form_index, form in enumerate(FORMS):
                lines, kinds = _form_lines(rng, task, student_ids, rows, form_index, frags)
                writers[form].write(col.line_bytes(lines), rows=len(lines))
                by_kind += np.bincount(kinds, minlength=6)
    finally:
        files = {f"vle/{w.path.name}": w.close() for w in writers.values()}
    return {
        "shard": task.shard,
        "files": files,
        "statements": int(by_kind.sum()),
        "by_kind": dict(zip(KIND_NAMES, by_kind.tolist(), strict=True)),
    }
