"""The outcome model behind the synthetic institution, in one place.

`generator` draws from these constants and `readme()` writes them into
`truth/README.md`, so the documentation cannot drift from the data.
"""

from __future__ import annotations

import math

import numpy as np

# Latent student attributes.
ATTAINMENT_IMD_SLOPE = 0.10  # prior attainment A ~ N(0.10 * (IMD - 3), 1)
STUDENT_ENGAGEMENT_SD = 0.55  # student propensity u ~ N(0, 0.55)
MODULE_ENGAGEMENT_SD = 0.45  # student-module noise
ENGAGEMENT_ATTAINMENT_SLOPE = 0.25
ENGAGEMENT_IMD_SLOPE = 0.08  # per quintile above/below 3
ENGAGEMENT_FEE_SHIFT = {"home": 0.0, "eu": 0.05, "overseas": 0.10}
MODULE_DIFFICULTY_SD = 0.30  # d_m ~ N(0, 0.30) per module (MOD_ID), same every year

# How prior attainment A shows in the extracts: the entry qualification (UDD ENTRY_QUALS,
# a HESA QUALENT3 code) and its UCAS 2017 tariff points (ENTRY_POINTS). Each of three
# graded components (A levels, BTEC units, IB higher-level subjects, Access to HE credit
# blocks) gets a grade from z = A + N(0, ENTRY_COMPONENT_SD) cut at the given points;
# the tariff is the sum of the grades' points.
ENTRY_COMPONENTS = 3
ENTRY_COMPONENT_SD = 0.8
ENTRY_TARIFF = {
    "P50": ((-1.9, -1.1, -0.2, 0.65, 1.65), (16, 24, 32, 40, 48, 56)),  # A level E..A*
    "P41": ((-1.1, 0.3, 1.65), (16, 32, 48, 56)),  # BTEC Extended Diploma P, M, D, D*
    "P62": ((-1.6, -0.6, 0.4, 1.3), (12, 24, 32, 48, 56)),  # IB Diploma HL 3..7
    "X00": ((-0.85, 0.3), (16, 32, 48)),  # Access to HE Diploma, 15 credits at P, M, D
}
# Entry routes (ENTRY_QUALS: weight) by kind of student; P80 (other level 3), X02
# (mature, admitted on experience) and X06 (not known) carry no tariff.
ENTRY_ROUTES = {
    "school_leaver": {"P50": 70.0, "P41": 18.0, "P62": 4.0, "P80": 5.0, "X06": 3.0},
    "mature": {"X00": 50.0, "X02": 30.0, "P50": 15.0, "X06": 5.0},
    "overseas": {"P62": 20.0, "P80": 70.0, "X06": 10.0},
}
ENTRY_MATURE_AGE = 21  # age at entry from which a home or EU student enters as mature
ENTRY_POINTS_GAP = 0.06  # of tariff-bearing entries, the share whose points were not recorded

# logit(true_risk) = B0 + B_ENGAGEMENT * E + B_ATTAINMENT * A + d_m
B0 = -1.75
B_ENGAGEMENT = -1.10
B_ATTAINMENT = -0.55
WITHDRAW_SHARE = 0.35  # of fail-or-withdraw outcomes, the share that are withdrawals

# How engagement shows in the observable data.
VLE_ELASTICITY = 0.55  # statements per student-module proportional to exp(0.55 * E)
VLE_STATEMENTS_PER_MODULE = 150  # default session statements for a full-length module
ATTEND_LOGIT = (1.3, 1.3)  # P(attend event) = sigmoid(1.3 + 1.3 * E)
LATE_SHARE = 0.07  # of attended events
SUBMIT_LOGIT = (2.2, 1.6)  # P(submit assignment) = sigmoid(2.2 + 1.6 * E)
QUIZ_LOGIT = (0.8, 1.4)  # P(complete quiz) = sigmoid(0.8 + 1.4 * E)
QUIZ_SCORE = (62.0, 10.0, 6.0, 12.0)  # 62 + 10E + 6A + N(0, 12), clipped to 0..100
LOANS_PER_YEAR = 2.0  # library loans ~ Poisson(2.0 * exp(0.5 * mean E of the year))
LOANS_ELASTICITY = 0.5

# Marks, by outcome (rounded, clipped).
PASS_MARK = (58.0, 7.0, 5.0, 7.0, 40, 92)  # 58 + 7E + 5A + N(0, 7), clipped to 40..92
FAIL_MARK = (30.0, 4.0, 3.0, 7.0, 5, 39)  # 30 + 4E + 3A + N(0, 7), clipped to 5..39

# The spurious proxy X_PRINT_CREDITS: Poisson means.
PRINT_CREDITS_FIRST_YEAR = {"pass": 42.0, "fail": 14.0, "withdrawn": 6.0}
PRINT_CREDITS_LATER = 30.0

# Progression between years.
LEAVE_AFTER_WITHDRAWAL = 0.6
LEAVE_AFTER_TWO_FAILS = 0.4
NOTES_PER_STUDENT = (0.2, 1.5)  # case notes ~ Poisson(0.2 + 1.5 * mean true_risk)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def true_risk(engagement: np.ndarray, attainment: np.ndarray, difficulty: np.ndarray):
    return sigmoid(B0 + B_ENGAGEMENT * engagement + B_ATTAINMENT * attainment + difficulty)


def _routes() -> str:
    return "\n".join(
        f"- {kind.replace('_', ' ')}: " + ", ".join(f"{q} {w:g}%" for q, w in weights.items())
        for kind, weights in ENTRY_ROUTES.items()
    )


def _tariffs() -> str:
    return "\n".join(
        f"- {qual}: cut points {', '.join(f'{c:g}' for c in cuts)}; points "
        f"{', '.join(map(str, points))}"
        for qual, (cuts, points) in ENTRY_TARIFF.items()
    )


def readme(years: list[int], as_of: str, running: bool) -> str:
    first, *_rest, last = years
    fee = ENGAGEMENT_FEE_SHIFT
    imd = {q: ENGAGEMENT_IMD_SLOPE * (q - 3) for q in range(1, 6)}
    p = PRINT_CREDITS_FIRST_YEAR
    mean_risk = 1 / (1 + math.exp(-B0))
    running_note = (
        f"The {last} presentation is running at `as_of`: no marks, MOD_RESULT 3, activity up\n"
        "to `as_of` only. Its planned dates (X_END_DATE, MOD_END_DATE) lie after `as_of`;\n"
        "every recorded event (statements, attendance, loans, notes, consent, requests,\n"
        "withdrawals) is earlier."
        if running
        else "Every presentation has finished by `as_of`."
    )
    return f"""# Ground truth for the synthetic institution

Files here are for evaluation only: never ingest them, never show them to a model.

- `student_outcomes.csv`: `student_id,mod_instance_id,true_risk,outcome`, one row per
  student-module (the rows of `udd/student_on_module.tsv`). `true_risk` is the
  probability of fail-or-withdraw the generator used; `outcome` is `pass`, `fail` or
  `withdrawn`, and empty for modules still running at `as_of` ({as_of}) unless the
  student had already withdrawn.
- `note_pii_spans.jsonl`: `{{"note_id", "spans": [{{"entity_type", "start", "end",
  "text"}}]}}`, exact character offsets into the case note's `text`. Entity types:
  PERSON, EMAIL_ADDRESS, UK_PHONE, UK_POSTCODE, STUDENT_ID, DATE_OF_BIRTH, UK_NINO.
  PERSON spans cover the name only (in "Ms Khan" the span is "Khan"). Module codes,
  room names, course titles, role titles and meeting dates are deliberately present
  and are not personal data.

## Outcome model

Presentations: {", ".join(map(str, years))} (academic years starting in October).
{running_note}

Per student:

- prior attainment `A ~ Normal({ATTAINMENT_IMD_SLOPE} * (IMD_QUINTILE - 3), 1)`
  (latent; the extracts show it only through the entry tariff, below);
- engagement propensity `u ~ Normal(0, {STUDENT_ENGAGEMENT_SD})`.

Per student-module (module m, latent engagement `E`):

    E = u + {ENGAGEMENT_ATTAINMENT_SLOPE} * A + {ENGAGEMENT_IMD_SLOPE} * (IMD_QUINTILE - 3)
          + fee_shift + Normal(0, {MODULE_ENGAGEMENT_SD})
    true_risk = 1 / (1 + exp(-({B0} + ({B_ENGAGEMENT}) * E + ({B_ATTAINMENT}) * A + d_m)))

with `d_m ~ Normal(0, {MODULE_DIFFICULTY_SD})` a per-module difficulty (same MOD_ID, same
`d_m` every year) and fee_shift = {fee["home"]} home, {fee["eu"]} eu, {fee["overseas"]}
overseas. At E = A = d_m = 0 the risk is {mean_risk:.3f}.

Outcome: with probability `true_risk` the student fails or withdraws; of those,
{WITHDRAW_SHARE:.0%} withdraw (on a date in the first 80% of the module; activity stops
that day) and the rest fail. Otherwise they pass. Marks: pass
`{PASS_MARK[0]} + {PASS_MARK[1]}E + {PASS_MARK[2]}A + Normal(0, {PASS_MARK[3]})` clipped to
{PASS_MARK[4]}..{PASS_MARK[5]}; fail `{FAIL_MARK[0]} + {FAIL_MARK[1]}E + {FAIL_MARK[2]}A +
Normal(0, {FAIL_MARK[3]})` clipped to {FAIL_MARK[4]}..{FAIL_MARK[5]}. A student who
withdrew from any module leaves the course after that year with probability
{LEAVE_AFTER_WITHDRAWAL}; one who failed two or more modules, with probability
{LEAVE_AFTER_TWO_FAILS}.

How `A` shows in the extracts: `udd/student.tsv` carries the UDD entry fields of the
student's course membership. `ENTRY_QUALS` is drawn by route, independently of `A`
(overseas fee status; otherwise mature from age {ENTRY_MATURE_AGE} at entry; otherwise a
school leaver):

{_routes()}

For tariff-bearing qualifications ({", ".join(ENTRY_TARIFF)}), each of {ENTRY_COMPONENTS}
graded components gets a grade from `A + Normal(0, {ENTRY_COMPONENT_SD})` cut at fixed
points, and `ENTRY_POINTS` is the sum of the grades' UCAS 2017 tariff points
(`ENTRY_POINTS_SCHEMA` UCAS_17):

{_tariffs()}

{ENTRY_POINTS_GAP:.0%} of those entries have no points recorded (both fields empty), as do
all entries without a tariff. So the tariff is a banded, noisy and incomplete measure of
`A`, and the same `A` earns different points on different qualifications.

How `E` shows in the extracts (the only route from outcome-relevant state to data,
apart from withdrawal cutting activity short):

- VLE: session statements per student-module proportional to
  `exp({VLE_ELASTICITY} * E)` times the share of the module the student was active for
  ({VLE_STATEMENTS_PER_MODULE} per full-length module by default);
- attendance: each lecture/seminar attended with probability
  `sigmoid({ATTEND_LOGIT[0]} + {ATTEND_LOGIT[1]} * E)`, {LATE_SHARE:.0%} of attendances late;
- assignment submissions (3 per module): `sigmoid({SUBMIT_LOGIT[0]} + {SUBMIT_LOGIT[1]} * E)`;
- quizzes (6 per module): `sigmoid({QUIZ_LOGIT[0]} + {QUIZ_LOGIT[1]} * E)`; score
  `{QUIZ_SCORE[0]} + {QUIZ_SCORE[1]}E + {QUIZ_SCORE[2]}A + Normal(0, {QUIZ_SCORE[3]})`
  clipped to 0..100;
- library loans per year: `Poisson({LOANS_PER_YEAR} * exp({LOANS_ELASTICITY} * mean E))`;
- case notes per student: `Poisson({NOTES_PER_STUDENT[0]} + {NOTES_PER_STUDENT[1]} *
  mean true_risk)`.

## Group differences (documented base-rate differences)

- IMD quintile shifts engagement by {ENGAGEMENT_IMD_SLOPE} per quintile
  (quintile 1: {imd[1]:+.2f}, 2: {imd[2]:+.2f}, 3: 0, 4: {imd[4]:+.2f}, 5: {imd[5]:+.2f})
  and prior attainment by {ATTAINMENT_IMD_SLOPE} per quintile, so the most deprived
  quintile has a higher observed fail/withdraw rate.
- Fee status shifts engagement: home {fee["home"]:+.2f}, eu {fee["eu"]:+.2f}, overseas
  {fee["overseas"]:+.2f}.
- Special-category attributes - ETHNICITY, DIFFLEARN1 (disability), X_RELIGION - and
  X_CARELEAVER and SEXID do NOT enter E, A or true_risk, so a model that ignores them
  can be fair. They are drawn independently of everything except each other, the
  student's name and domicile: non-UK-domiciled students' ethnicity follows their
  domicile (and religion follows the name's heritage), domicile goes with fee status,
  and students from outside the UK are mostly care-leaver "not known". So ethnicity
  and care-leaver status are correlated with fee status, and through it, weakly, with
  risk. A fairness check should find at most that indirect gap.

## The spurious proxy X_PRINT_CREDITS

`X_PRINT_CREDITS` in `udd/student_on_module.tsv` is generated FROM THE OUTCOME in the
{first} presentation only: Poisson with mean {p["pass"]} for pass, {p["fail"]} for fail,
{p["withdrawn"]} for withdrawn. In every later presentation it is Poisson({PRINT_CREDITS_LATER})
for everyone, independent of outcome. A model trained on {first} will find it highly
predictive; validated on a later presentation its value vanishes. Model work should
detect and drop it.
"""
