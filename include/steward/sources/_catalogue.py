"""Fixed reference data for the synthetic institution: departments, courses, modules,
buildings, UK postcode areas and the UDD code distributions students are drawn from.

Only literals live here; `generator` decides how they are combined.
"""

from __future__ import annotations

from dataclasses import dataclass

INSTITUTION = "Example University"
UKPRN = "10099999"  # AWARDING_BODY: the institution's own (fictitious) UKPRN
HESA_INSTITUTION_ID = "0999"  # HUSID digits 3-6
STUDENT_EMAIL_DOMAIN = "student.example.ac.uk"
STAFF_EMAIL_DOMAIN = "example.ac.uk"
VLE_HOME = "https://vle.example.ac.uk"


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    faculty: str
    jacs: str  # MOD_SUBJECT: JACS3 principal subject
    building: str
    courses: tuple[tuple[str, str], ...]  # (COURSE_ID, TITLE)
    modules: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # names by level 1..3


_FSE = "Faculty of Science and Engineering"
_FHLS = "Faculty of Health and Life Sciences"
_FAHSS = "Faculty of Arts, Humanities and Social Sciences"
_FBL = "Faculty of Business and Law"

# Order matters: small institutions use the first few departments.
DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "CS",
        "School of Computer Science",
        _FSE,
        "G400",
        "Turing Building",
        (
            ("CSCI-BSC", "BSc (Hons) Computer Science"),
            ("SWEN-BSC", "BSc (Hons) Software Engineering"),
        ),
        (
            (
                "Programming Fundamentals",
                "Computer Systems",
                "Discrete Mathematics for Computing",
                "Web Development",
                "Databases",
            ),
            (
                "Data Structures and Algorithms",
                "Software Engineering",
                "Operating Systems",
                "Networks and Security",
                "Human-Computer Interaction",
            ),
            (
                "Machine Learning",
                "Distributed Systems",
                "Compilers",
                "Computer Vision",
                "Individual Project",
            ),
        ),
    ),
    Department(
        "BU",
        "Business School",
        _FBL,
        "N100",
        "Hepworth Centre",
        (
            ("BMGT-BA", "BA (Hons) Business Management"),
            ("ACFI-BSC", "BSc (Hons) Accounting and Finance"),
        ),
        (
            (
                "Principles of Management",
                "Financial Accounting",
                "Marketing Fundamentals",
                "Business Economics",
                "Organisational Behaviour",
            ),
            (
                "Operations Management",
                "Human Resource Management",
                "Management Accounting",
                "Digital Business",
                "Business Analytics",
            ),
            (
                "Strategic Management",
                "International Business",
                "Entrepreneurship",
                "Leadership",
                "Business Consultancy Project",
            ),
        ),
    ),
    Department(
        "PS",
        "School of Psychology",
        _FHLS,
        "C800",
        "Harrison Building",
        (
            ("PSYC-BSC", "BSc (Hons) Psychology"),
            ("PSCR-BSC", "BSc (Hons) Psychology with Criminology"),
        ),
        (
            (
                "Introduction to Psychology",
                "Research Methods in Psychology",
                "Developmental Psychology",
                "Social Psychology",
                "Biological Psychology",
            ),
            (
                "Cognitive Psychology",
                "Statistics for Psychology",
                "Personality and Individual Differences",
                "Clinical Psychology",
                "Psychology of Learning",
            ),
            (
                "Neuropsychology",
                "Health Psychology",
                "Forensic Psychology",
                "Advanced Research Methods",
                "Psychology Dissertation",
            ),
        ),
    ),
    Department(
        "LA",
        "School of Law",
        _FBL,
        "M100",
        "Denning House",
        (("LAWS-LLB", "LLB (Hons) Law"), ("LACR-LLB", "LLB (Hons) Law with Criminology")),
        (
            ("Contract Law", "Public Law", "Legal Skills", "Criminal Law", "Law of Tort"),
            ("Land Law", "Equity and Trusts", "EU Law", "Employment Law", "Family Law"),
            (
                "Company Law",
                "Evidence",
                "Intellectual Property Law",
                "Human Rights Law",
                "Law Dissertation",
            ),
        ),
    ),
    Department(
        "NU",
        "School of Nursing and Midwifery",
        _FHLS,
        "B700",
        "Nightingale Building",
        (
            ("NADU-BSC", "BSc (Hons) Adult Nursing"),
            ("NMEN-BSC", "BSc (Hons) Mental Health Nursing"),
        ),
        (
            (
                "Foundations of Nursing Practice",
                "Anatomy and Physiology",
                "Health and Wellbeing",
                "Communication in Care",
                "Professional Values",
            ),
            (
                "Acute Nursing Care",
                "Pharmacology",
                "Mental Health Nursing",
                "Community Nursing",
                "Evidence-Based Practice",
            ),
            (
                "Complex Care",
                "Leadership in Nursing",
                "Palliative Care",
                "Public Health Nursing",
                "Nursing Dissertation",
            ),
        ),
    ),
    Department(
        "BI",
        "School of Biosciences",
        _FHLS,
        "C100",
        "Franklin Laboratories",
        (("BIOL-BSC", "BSc (Hons) Biology"), ("ECOL-BSC", "BSc (Hons) Ecology and Conservation")),
        (
            ("Cell Biology", "Genetics", "Ecology", "Biochemistry", "Microbiology"),
            ("Molecular Biology", "Evolution", "Physiology", "Plant Science", "Field Skills"),
            (
                "Immunology",
                "Bioinformatics",
                "Conservation Biology",
                "Developmental Biology",
                "Biology Research Project",
            ),
        ),
    ),
    Department(
        "EN",
        "School of English",
        _FAHSS,
        "Q300",
        "Elgar Building",
        (
            ("ENGL-BA", "BA (Hons) English Literature"),
            ("ENCW-BA", "BA (Hons) English and Creative Writing"),
        ),
        (
            (
                "Reading Literature",
                "Shakespeare",
                "Poetry and Poetics",
                "Victorian Fiction",
                "Creative Writing",
            ),
            (
                "Romanticism",
                "Modernism",
                "Postcolonial Writing",
                "Gothic Literature",
                "Literary Theory",
            ),
            (
                "Contemporary Fiction",
                "Renaissance Drama",
                "Children's Literature",
                "Writing the City",
                "English Dissertation",
            ),
        ),
    ),
    Department(
        "HI",
        "School of History",
        _FAHSS,
        "V100",
        "Elgar Building",
        (("HIST-BA", "BA (Hons) History"), ("MHIS-BA", "BA (Hons) Modern History")),
        (
            (
                "Making of the Modern World",
                "Medieval Europe",
                "Historical Skills and Sources",
                "Britain 1700-1900",
                "Global Empires",
            ),
            (
                "The Cold War",
                "Early Modern Britain",
                "Social History of Medicine",
                "The Atlantic World",
                "Public History",
            ),
            (
                "Twentieth-Century Europe",
                "Histories of Protest",
                "Memory and Commemoration",
                "Oral History",
                "History Dissertation",
            ),
        ),
    ),
    Department(
        "EC",
        "Department of Economics",
        _FBL,
        "L100",
        "Hepworth Centre",
        (("ECON-BSC", "BSc (Hons) Economics"), ("ECFI-BSC", "BSc (Hons) Economics and Finance")),
        (
            (
                "Microeconomics",
                "Macroeconomics",
                "Mathematics for Economists",
                "Economic History",
                "Quantitative Methods",
            ),
            (
                "Intermediate Microeconomics",
                "Intermediate Macroeconomics",
                "Econometrics",
                "Labour Economics",
                "Development Economics",
            ),
            (
                "Game Theory",
                "Behavioural Economics",
                "Public Economics",
                "Financial Economics",
                "Economics Dissertation",
            ),
        ),
    ),
    Department(
        "MA",
        "School of Mathematics",
        _FSE,
        "G100",
        "Noether Building",
        (
            ("MATH-BSC", "BSc (Hons) Mathematics"),
            ("MAST-BSC", "BSc (Hons) Mathematics and Statistics"),
        ),
        (
            (
                "Calculus",
                "Linear Algebra",
                "Probability",
                "Mathematical Reasoning",
                "Numerical Methods",
            ),
            (
                "Real Analysis",
                "Group Theory",
                "Statistics",
                "Differential Equations",
                "Mathematical Modelling",
            ),
            (
                "Complex Analysis",
                "Topology",
                "Number Theory",
                "Stochastic Processes",
                "Mathematics Project",
            ),
        ),
    ),
    Department(
        "CH",
        "School of Chemistry",
        _FSE,
        "F100",
        "Franklin Laboratories",
        (("CHEM-BSC", "BSc (Hons) Chemistry"), ("MCHM-BSC", "BSc (Hons) Medicinal Chemistry")),
        (
            (
                "General Chemistry",
                "Organic Chemistry",
                "Inorganic Chemistry",
                "Physical Chemistry",
                "Laboratory Skills",
            ),
            (
                "Spectroscopy",
                "Analytical Chemistry",
                "Chemical Thermodynamics",
                "Polymer Chemistry",
                "Computational Chemistry",
            ),
            (
                "Medicinal Chemistry",
                "Catalysis",
                "Materials Chemistry",
                "Green Chemistry",
                "Chemistry Research Project",
            ),
        ),
    ),
    Department(
        "SO",
        "School of Sociology",
        _FAHSS,
        "L300",
        "Harrison Building",
        (("SOCI-BA", "BA (Hons) Sociology"), ("CRSO-BA", "BA (Hons) Criminology and Sociology")),
        (
            (
                "Sociological Imagination",
                "Social Theory",
                "Sociology of Everyday Life",
                "Social Research Methods",
                "Inequality and Society",
            ),
            (
                "Gender and Society",
                "Sociology of Education",
                "Race and Ethnicity",
                "Urban Sociology",
                "Quantitative Social Research",
            ),
            (
                "Sociology of Health",
                "Globalisation",
                "Crime and Society",
                "Digital Sociology",
                "Sociology Dissertation",
            ),
        ),
    ),
)

# Relative size of each department's intake (same order as DEPARTMENTS).
DEPARTMENT_WEIGHTS = (12, 12, 10, 8, 9, 7, 6, 6, 7, 6, 5, 6)
CORE_MODULES_PER_LEVEL = 2  # of the five per level; the other three are options

CAMPUS_BUILDINGS = (
    "Harrison Building",
    "Turing Building",
    "Hepworth Centre",
    "Elgar Building",
    "Nightingale Building",
    "Franklin Laboratories",
    "Noether Building",
    "Denning House",
    "Brunel Lecture Theatre",
    "Library Learning Commons",
)
MAIN_LIBRARY = "Main Library"
LIBRARY_BRANCH_BY_FACULTY = {
    _FSE: "Science Library",
    _FHLS: "Health Sciences Library",
    _FBL: "Law and Business Library",
}

# --- UDD code distributions (codes from udd_codelists_en.json), weights in percent ---
SEXID = (("1", 44.0), ("2", 55.0), ("3", 1.0))
ETHNICITY = (
    ("10", 60.0),
    ("13", 3.0),
    ("19", 6.0),
    ("51", 1.0),
    ("14", 0.1),
    ("15", 0.1),
    ("31", 4.0),
    ("32", 4.0),
    ("33", 2.0),
    ("34", 2.5),
    ("39", 2.0),
    ("21", 1.6),
    ("22", 6.0),
    ("29", 0.5),
    ("41", 1.2),
    ("42", 0.8),
    ("43", 1.3),
    ("49", 1.0),
    ("50", 1.0),
    ("80", 1.0),
    ("90", 0.5),
    ("98", 0.5),
)
DIFFLEARN1 = (
    ("1", 82.0),
    ("2", 1.0),
    ("3", 1.0),
    ("4", 1.5),
    ("5", 4.5),
    ("6", 7.5),
    ("7", 2.5),
)
SOCIO_EC = (
    ("1", 15.0),
    ("2", 20.0),
    ("3", 12.0),
    ("4", 8.0),
    ("5", 6.0),
    ("6", 12.0),
    ("7", 10.0),
    ("8", 4.0),
    ("9", 13.0),
)
CARELEAVER = (("5", 89.0), ("1", 2.0), ("4", 1.0), ("3", 0.5), ("99", 5.5), ("98", 2.0))
CARELEAVER_NON_UK = (("99", 60.0), ("5", 40.0))
# Ethnicity of non-UK students whose domicile has no dominant group.
ETHNICITY_OTHER_DOMICILE = (("10", 55.0), ("19", 25.0), ("21", 5.0), ("22", 5.0), ("80", 10.0))
AGE_AT_ENTRY = (("18", 55.0), ("19", 20.0), ("20", 8.0), ("mature", 12.0), ("older", 5.0))
MOBILE_STYLE_SHARE = (
    ("spaced", 60.0),
    ("compact", 20.0),
    ("intl_spaced", 15.0),
    ("intl_compact", 5.0),
)
FEE_STATUS = (("home", 78.0), ("overseas", 17.0), ("eu", 5.0))
OVERSEAS_BY_FEE = {"home": "1", "eu": "2", "overseas": "3"}
# DOMICILE has no "GB": UDD uses XF England, XI Wales, XH Scotland, XG Northern Ireland.
HOME_DOMICILE = (("XF", 82.0), ("XI", 7.0), ("XH", 7.0), ("XG", 3.0), ("XK", 1.0))
EU_DOMICILE = (("IE", 20.0), ("FR", 15.0), ("DE", 15.0), ("ES", 12.0), ("IT", 12.0), ("PL", 10.0))
OVERSEAS_DOMICILE = (
    ("CN", 30.0),
    ("IN", 22.0),
    ("NG", 10.0),
    ("PK", 6.0),
    ("MY", 6.0),
    ("HK", 6.0),
    ("US", 8.0),
    ("BD", 4.0),
    ("GH", 4.0),
    ("RO", 4.0),
)
IMD_QUINTILE = (("1", 22.0), ("2", 21.0), ("3", 20.0), ("4", 19.0), ("5", 18.0))
RELIGION = (
    ("No religion", 45.0),
    ("Christian", 31.0),
    ("Muslim", 8.0),
    ("Hindu", 2.0),
    ("Sikh", 1.0),
    ("Jewish", 0.5),
    ("Buddhist", 1.0),
    ("Any other religion", 1.5),
    ("Prefer not to say", 10.0),
)
# Religion depends on the name/heritage pool (census-like), never on outcomes.
RELIGION_BY_POOL = {
    "pk": (("Muslim", 80.0), ("No religion", 6.0), ("Prefer not to say", 14.0)),
    "in": (
        ("Hindu", 45.0),
        ("Sikh", 15.0),
        ("Muslim", 12.0),
        ("Christian", 6.0),
        ("No religion", 10.0),
        ("Prefer not to say", 12.0),
    ),
    "ng": (
        ("Christian", 72.0),
        ("Muslim", 12.0),
        ("No religion", 6.0),
        ("Prefer not to say", 10.0),
    ),
    "cn": (
        ("No religion", 70.0),
        ("Buddhist", 10.0),
        ("Christian", 8.0),
        ("Prefer not to say", 12.0),
    ),
    "pl": (("Christian", 70.0), ("No religion", 20.0), ("Prefer not to say", 10.0)),
    "ie": (("Christian", 60.0), ("No religion", 30.0), ("Prefer not to say", 10.0)),
}

# Postcode areas by nation with the highest district number used (valid outward codes).
POSTCODE_AREAS = {
    "england": (
        ("B", 76),
        ("BS", 41),
        ("M", 35),
        ("L", 38),
        ("LS", 29),
        ("S", 36),
        ("NE", 66),
        ("NG", 25),
        ("LE", 19),
        ("CV", 37),
        ("OX", 29),
        ("CB", 25),
        ("NR", 35),
        ("YO", 62),
        ("HU", 20),
        ("BD", 24),
        ("SO", 53),
        ("PL", 35),
        ("EX", 39),
        ("BN", 45),
        ("ST", 21),
        ("DE", 24),
        ("SK", 23),
        ("WV", 16),
        ("N", 22),
        ("E", 18),
        ("SE", 28),
        ("SW", 20),
        ("NW", 11),
        ("LN", 13),
    ),
    "wales": (("CF", 48), ("SA", 73), ("LL", 78), ("NP", 44), ("LD", 8), ("SY", 25)),
    "scotland": (
        ("EH", 55),
        ("G", 84),
        ("AB", 56),
        ("DD", 11),
        ("KY", 16),
        ("FK", 21),
        ("PA", 49),
        ("IV", 63),
        ("KA", 30),
        ("ML", 12),
        ("DG", 16),
        ("PH", 50),
    ),
    "northern_ireland": (("BT", 94),),
}
NATION_BY_DOMICILE = {"XF": "england", "XI": "wales", "XH": "scotland", "XG": "northern_ireland"}
# Term-time addresses of students from elsewhere: the institution's own city.
LOCAL_POSTCODE_AREAS = (("S", 36),)
POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Landline area codes with the number of subscriber digits after the code.
LANDLINE_AREAS = (
    ("020", 8),
    ("0114", 7),
    ("0121", 7),
    ("0131", 7),
    ("0141", 7),
    ("0161", 7),
    ("0113", 7),
    ("0117", 7),
    ("029", 8),
    ("028", 8),
    ("01632", 6),
    ("01904", 6),
    ("01223", 6),
    ("01865", 6),
)
MOBILE_PREFIXES = ("071", "072", "073", "074", "075", "077", "078", "079")

STAFF_TITLES = (("Dr", 55.0), ("Professor", 10.0), ("Mr", 15.0), ("Ms", 15.0), ("Mrs", 5.0))
STUDENT_TITLES = {"1": ("Mr",), "2": ("Ms", "Miss", "Mrs"), "3": ("Mx",)}

FORUM_RESPONSES = (
    "Does anyone know if the slides for this week are up yet?",
    "I found the second reading really helpful for the assignment.",
    "Is the deadline for the coursework still the same?",
    "Here is my summary of the seminar discussion.",
    "Could someone explain the last example from the lecture?",
    "I think question three has a typo in it.",
    "Thanks, that cleared it up for me.",
    "Are we allowed to work in pairs for the lab?",
    "My answer to the practice question is attached below.",
    "Which chapter should we read before the seminar?",
    "The recording of the lecture seems to cut off early.",
    "I agree with the point about sampling bias.",
    "Is there a word limit for the reflective log?",
    "Posting my notes from the revision session.",
    "Good point, I had not thought about it that way.",
)

RESOURCE_KINDS = (
    ("lecture slides", "http://xapi.jisc.ac.uk/vle/file", "resource"),
    ("seminar reading", "http://xapi.jisc.ac.uk/vle/page", "page"),
    ("lecture recording", "http://xapi.jisc.ac.uk/vle/page", "page"),
    ("worksheet", "http://xapi.jisc.ac.uk/vle/file", "resource"),
)

BOOK_SUBTITLES = (
    "An Introduction",
    "Principles and Practice",
    "A Critical Reader",
    "Key Concepts",
    "Theory and Applications",
    "A Student Handbook",
)
BOOK_EDITIONS = ("", " (2nd edn)", " (3rd edn)", " (5th edn)")
LIBRARY_SUBTYPES = (
    ("BOOK", 86.0),
    ("JOURNAL", 6.0),
    ("THESIS", 3.0),
    ("DVD", 2.0),
    ("LAPTOP", 3.0),
)
