"""The controlled values the catalogue supports, with their official EU concept IRIs.

Facts (IRIs, English labels) come from the EU Vocabularies / ELM controlled lists, as collected in
`shared/reference/elm/vocabularies/controlled-vocabularies.csv`. The project keeps its own table of
the values it supports so that the Europass export and the API can name each value by its IRI.
A value is given by its short code (e.g. EQF "6", mode "online", language "en", country "DE") or
by its full IRI; it is stored as the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalogue.errors import InvalidInput
from openbadges_schemas.ob3 import ACHIEVEMENT_TYPES as OB3_ACHIEVEMENT_TYPES

SNB = "http://data.europa.eu/snb"
AUTHORITY = "http://publications.europa.eu/resource/authority"


class UnknownConcept(InvalidInput):
    code = "unknown_value"


@dataclass(frozen=True)
class Concept:
    scheme: str
    code: str
    iri: str
    label: str
    scheme_iri: str


@dataclass(frozen=True)
class Scheme:
    key: str
    iri: str
    title: str
    concepts: tuple[Concept, ...]

    def get(self, value: str) -> Concept | None:
        return _INDEX[self.key].get(value)


def _scheme(
    key: str, iri: str, title: str, base: str, rows: tuple[tuple[str, str, str], ...]
) -> Scheme:
    """rows: (code, local id in the IRI, English label)."""
    concepts = tuple(
        Concept(key, code, f"{base}/{local}", label, iri) for code, local, label in rows
    )
    return Scheme(key, iri, title, concepts)


_ISCED_F: tuple[tuple[str, str], ...] = (
    ("00", "Generic programmes and qualifications"),
    ("000", "Generic programmes and qualifications not further defined"),
    ("001", "Basic programmes and qualifications"),
    ("002", "Literacy and numeracy"),
    ("003", "Personal skills and development"),
    ("009", "Generic programmes and qualifications not elsewhere classified"),
    ("0000", "Generic programmes and qualifications not further defined"),
    ("0011", "Basic programmes and qualifications"),
    ("0021", "Literacy and numeracy"),
    ("0031", "Personal skills and development"),
    ("0099", "Generic programmes and qualifications not elsewhere classified"),
    ("01", "Education"),
    ("011", "Education"),
    ("018", "Inter-disciplinary programmes and qualifications involving education"),
    ("0110", "Education not further defined"),
    ("0111", "Education science"),
    ("0112", "Training for pre-school teachers"),
    ("0113", "Teacher training without subject specialisation"),
    ("0114", "Teacher training with subject specialisation"),
    ("0119", "Education not elsewhere classified"),
    ("0188", "Inter-disciplinary programmes and qualifications involving education"),
    ("02", "Arts and humanities"),
    ("020", "Arts and humanities not further defined"),
    ("021", "Arts"),
    ("022", "Humanities (except languages)"),
    ("023", "Languages"),
    ("028", "Inter-disciplinary programmes and qualifications involving arts and humanities"),
    ("029", "Arts and humanities not elsewhere classified"),
    ("0200", "Arts and humanities not further defined"),
    ("0210", "Arts not further defined"),
    ("0211", "Audio-visual techniques and media production"),
    ("0212", "Fashion, interior and industrial design"),
    ("0213", "Fine arts"),
    ("0214", "Handicrafts"),
    ("0215", "Music and performing arts"),
    ("0219", "Arts not elsewhere classified"),
    ("0220", "Humanities (except languages) not further defined"),
    ("0221", "Religion and theology"),
    ("0222", "History and archaeology"),
    ("0223", "Philosophy and ethics"),
    ("0228", "Inter-disciplinary programmes and qualifications involving humanities"),
    ("0229", "Humanities (except languages) not elsewhere classified"),
    ("0230", "Languages not further defined"),
    ("0231", "Language acquisition"),
    ("0232", "Literature and linguistics"),
    ("0239", "Languages not elsewhere classified"),
    ("0288", "Inter-disciplinary programmes and qualifications involving arts and humanities"),
    ("0299", "Arts and humanities not elsewhere classified"),
    ("03", "Social sciences, journalism and information"),
    ("030", "Social sciences, journalism and information not further defined"),
    ("031", "Social and behavioural sciences"),
    ("032", "Journalism and information"),
    (
        "038",
        "Inter-disciplinary programmes and qualifications involving social sciences, journalism and information",  # noqa: E501
    ),
    ("039", "Social sciences, journalism and information not elsewhere classified"),
    ("0300", "Social sciences, journalism and information not further defined"),
    ("0310", "Social and behavioural sciences not further defined"),
    ("0311", "Economics"),
    ("0312", "Political sciences and civics"),
    ("0313", "Psychology"),
    ("0314", "Sociology and cultural studies"),
    ("0319", "Social and behavioural sciences not elsewhere classified"),
    ("0320", "Journalism and information not further defined"),
    ("0321", "Journalism and reporting"),
    ("0322", "Library, information and archival studies"),
    ("0329", "Journalism and information not elsewhere classified"),
    (
        "0388",
        "Inter-disciplinary programmes and qualifications involving social sciences, journalism and information",  # noqa: E501
    ),
    ("0399", "Social sciences, journalism and information not elsewhere classified"),
    ("04", "Business, administration and law"),
    ("040", "Business, administration and law not further defined"),
    ("041", "Business and administration"),
    ("042", "Law"),
    (
        "048",
        "Inter-disciplinary programmes and qualifications involving business, administration and law",  # noqa: E501
    ),
    ("049", "Business, administration and law not elsewhere classified"),
    ("0400", "Business, administration and law not further defined"),
    ("0410", "Business and administration not further defined"),
    ("0411", "Accounting and taxation"),
    ("0412", "Finance, banking and insurance"),
    ("0413", "Management and administration"),
    ("0414", "Marketing and advertising"),
    ("0415", "Secretarial and office work"),
    ("0416", "Wholesale and retail sales"),
    ("0417", "Work skills"),
    ("0419", "Business and administration not elsewhere classified"),
    ("0421", "Law"),
    (
        "0488",
        "Inter-disciplinary programmes and qualifications involving business, administration and law",  # noqa: E501
    ),
    ("0499", "Business, administration and law not elsewhere classified"),
    ("05", "Natural sciences, mathematics and statistics"),
    ("050", "Natural sciences, mathematics and statistics not further defined"),
    ("051", "Biological and related sciences"),
    ("052", "Environment"),
    ("053", "Physical sciences"),
    ("054", "Mathematics and statistics"),
    (
        "058",
        "Inter-disciplinary programmes and qualifications involving natural sciences, mathematics and statistics",  # noqa: E501
    ),
    ("059", "Natural sciences, mathematics and statistics not elsewhere classified"),
    ("0500", "Natural sciences, mathematics and statistics not further defined"),
    ("0510", "Biological and related sciences not further defined"),
    ("0511", "Biology"),
    ("0512", "Biochemistry"),
    ("0519", "Biological and related sciences not elsewhere classified"),
    ("0520", "Environment not further defined"),
    ("0521", "Environmental sciences"),
    ("0522", "Natural environments and wildlife"),
    ("0529", "Environment not elsewhere classified"),
    ("0530", "Physical sciences not further defined"),
    ("0531", "Chemistry"),
    ("0532", "Earth sciences"),
    ("0533", "Physics"),
    ("0539", "Physical sciences not elsewhere classified"),
    ("0540", "Mathematics and statistics not further defined"),
    ("0541", "Mathematics"),
    ("0542", "Statistics"),
    (
        "0588",
        "Inter-disciplinary programmes and qualifications involving natural sciences, mathematics and statistics",  # noqa: E501
    ),
    ("0599", "Natural sciences, mathematics and statistics not elsewhere classified"),
    ("06", "Information and Communication Technologies (ICTs)"),
    ("061", "Information and Communication Technologies (ICTs)"),
    (
        "068",
        "Inter-disciplinary programmes and qualifications involving Information and Communication Technologies (ICTs)",  # noqa: E501
    ),
    ("0610", "Information and Communication Technologies (ICTs) not further defined"),
    ("0611", "Computer use"),
    ("0612", "Database and network design and administration"),
    ("0613", "Software and applications development and analysis"),
    ("0619", "Information and communication technologies not elsewhere classified"),
    (
        "0688",
        "Inter-disciplinary programmes and qualifications involving Information and Communication Technologies (ICTs)",  # noqa: E501
    ),
    ("07", "Engineering, manufacturing and construction"),
    ("070", "Engineering, manufacturing and construction not further defined"),
    ("071", "Engineering and engineering trades"),
    ("072", "Manufacturing and processing"),
    ("073", "Architecture and construction"),
    (
        "078",
        "Inter-disciplinary programmes and qualifications involving engineering, manufacturing and construction",  # noqa: E501
    ),
    ("079", "Engineering, manufacturing and construction not elsewhere classified"),
    ("0700", "Engineering, manufacturing and construction not further defined"),
    ("0710", "Engineering and engineering trades not further defined"),
    ("0711", "Chemical engineering and processes"),
    ("0712", "Environmental protection technology"),
    ("0713", "Electricity and energy"),
    ("0714", "Electronics and automation"),
    ("0715", "Mechanics and metal trades"),
    ("0716", "Motor vehicles, ships and aircraft"),
    ("0719", "Engineering and engineering trades not elsewhere classified"),
    ("0720", "Manufacturing and processing not further defined"),
    ("0721", "Food processing"),
    ("0722", "Materials (glass, paper, plastic and wood)"),
    ("0723", "Textiles (clothes, footwear and leather)"),
    ("0724", "Mining and extraction"),
    ("0729", "Manufacturing and processing not elsewhere classified"),
    ("0730", "Architecture and construction not further defined"),
    ("0731", "Architecture and town planning"),
    ("0732", "Building and civil engineering"),
    (
        "0788",
        "Inter-disciplinary programmes and qualifications involving engineering, manufacturing and construction",  # noqa: E501
    ),
    ("0799", "Engineering, manufacturing and construction not elsewhere classified"),
    ("08", "Agriculture, forestry, fisheries and veterinary"),
    ("080", "Agriculture, forestry, fisheries and veterinary not further defined"),
    ("081", "Agriculture"),
    ("082", "Forestry"),
    ("083", "Fisheries"),
    ("084", "Veterinary"),
    (
        "088",
        "Inter-disciplinary programmes and qualifications involving agriculture, forestry, fisheries and veterinary",  # noqa: E501
    ),
    ("089", "Agriculture, forestry, fisheries and veterinary not elsewhere classified"),
    ("0800", "Agriculture, forestry, fisheries and veterinary not further defined"),
    ("0810", "Agriculture not further defined"),
    ("0811", "Crop and livestock production"),
    ("0812", "Horticulture"),
    ("0819", "Agriculture not elsewhere classified"),
    ("0821", "Forestry"),
    ("0831", "Fisheries"),
    ("0841", "Veterinary"),
    (
        "0888",
        "Inter-disciplinary programmes and qualifications involving agriculture, forestry, fisheries and veterinary",  # noqa: E501
    ),
    ("0899", "Agriculture, forestry, fisheries and veterinary not elsewhere classified"),
    ("09", "Health and welfare"),
    ("090", "Health and welfare not further defined"),
    ("091", "Health"),
    ("092", "Welfare"),
    ("098", "Inter-disciplinary programmes and qualifications involving health and welfare"),
    ("099", "Health and welfare not elsewhere classified"),
    ("0900", "Health and welfare not further defined"),
    ("0910", "Health not further defined"),
    ("0911", "Dental studies"),
    ("0912", "Medicine"),
    ("0913", "Nursing and midwifery"),
    ("0914", "Medical diagnostic and treatment technology"),
    ("0915", "Therapy and rehabilitation"),
    ("0916", "Pharmacy"),
    ("0917", "Traditional and complementary medicine and therapy"),
    ("0919", "Health not elsewhere classified"),
    ("0920", "Welfare not further defined"),
    ("0921", "Care of the elderly and of disabled adults"),
    ("0922", "Child care and youth services"),
    ("0923", "Social work and counselling"),
    ("0929", "Welfare not elsewhere classified"),
    ("0988", "Inter-disciplinary programmes and qualifications involving health and welfare"),
    ("0999", "Health and welfare not elsewhere classified"),
    ("10", "Services"),
    ("100", "Services not further defined"),
    ("101", "Personal services"),
    ("102", "Hygiene and occupational health services"),
    ("103", "Security services"),
    ("104", "Transport services"),
    ("108", "Inter-disciplinary programmes and qualifications involving services"),
    ("109", "Services not elsewhere classified"),
    ("1000", "Services not further defined"),
    ("1010", "Personal services not further defined"),
    ("1011", "Domestic services"),
    ("1012", "Hair and beauty services"),
    ("1013", "Hotel, restaurants and catering"),
    ("1014", "Sports"),
    ("1015", "Travel, tourism and leisure"),
    ("1019", "Personal services not elsewhere classified"),
    ("1020", "Hygiene and occupational health services not further defined"),
    ("1021", "Community sanitation"),
    ("1022", "Occupational health and safety"),
    ("1029", "Hygiene and occupational health services not elsewhere classified"),
    ("1030", "Security services not further defined"),
    ("1031", "Military and defence"),
    ("1032", "Protection of persons and property"),
    ("1039", "Security services not elsewhere classified"),
    ("1041", "Transport services"),
    ("1088", "Inter-disciplinary programmes and qualifications involving services"),
    ("1099", "Services not elsewhere classified"),
    ("99", "Field unknown"),
    ("999", "Field unknown"),
    ("9999", "Field unknown"),
)

_LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("en", "ENG", "English"),
    ("ar", "ARA", "Arabic"),
    ("bg", "BUL", "Bulgarian"),
    ("cs", "CES", "Czech"),
    ("da", "DAN", "Danish"),
    ("de", "DEU", "German"),
    ("el", "ELL", "Greek"),
    ("et", "EST", "Estonian"),
    ("fi", "FIN", "Finnish"),
    ("fr", "FRA", "French"),
    ("ga", "GLE", "Irish"),
    ("hr", "HRV", "Croatian"),
    ("hu", "HUN", "Hungarian"),
    ("is", "ISL", "Icelandic"),
    ("it", "ITA", "Italian"),
    ("lv", "LAV", "Latvian"),
    ("lt", "LIT", "Lithuanian"),
    ("mk", "MKD", "Macedonian"),
    ("mt", "MLT", "Maltese"),
    ("nl", "NLD", "Dutch"),
    ("no", "NOR", "Norwegian"),
    ("pl", "POL", "Polish"),
    ("pt", "POR", "Portuguese"),
    ("ro", "RON", "Romanian"),
    ("sk", "SLK", "Slovak"),
    ("sl", "SLV", "Slovenian"),
    ("es", "SPA", "Spanish"),
    ("sq", "SQI", "Albanian"),
    ("sr", "SRP", "Serbian"),
    ("sv", "SWE", "Swedish"),
    ("tr", "TUR", "Turkish"),
    ("uk", "UKR", "Ukrainian"),
)

_COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("AT", "AUT", "Austria"),
    ("BE", "BEL", "Belgium"),
    ("BG", "BGR", "Bulgaria"),
    ("HR", "HRV", "Croatia"),
    ("CY", "CYP", "Cyprus"),
    ("CZ", "CZE", "Czechia"),
    ("DK", "DNK", "Denmark"),
    ("EE", "EST", "Estonia"),
    ("FI", "FIN", "Finland"),
    ("FR", "FRA", "France"),
    ("DE", "DEU", "Germany"),
    ("GR", "GRC", "Greece"),
    ("HU", "HUN", "Hungary"),
    ("IE", "IRL", "Ireland"),
    ("IT", "ITA", "Italy"),
    ("LV", "LVA", "Latvia"),
    ("LT", "LTU", "Lithuania"),
    ("LU", "LUX", "Luxembourg"),
    ("MT", "MLT", "Malta"),
    ("NL", "NLD", "Netherlands"),
    ("PL", "POL", "Poland"),
    ("PT", "PRT", "Portugal"),
    ("RO", "ROU", "Romania"),
    ("SK", "SVK", "Slovakia"),
    ("SI", "SVN", "Slovenia"),
    ("ES", "ESP", "Spain"),
    ("SE", "SWE", "Sweden"),
    ("IS", "ISL", "Iceland"),
    ("LI", "LIE", "Liechtenstein"),
    ("NO", "NOR", "Norway"),
    ("CH", "CHE", "Switzerland"),
    ("GB", "GBR", "United Kingdom"),
    ("UA", "UKR", "Ukraine"),
    ("TR", "TUR", "Turkey"),
    ("RS", "SRB", "Serbia"),
    ("MK", "MKD", "North Macedonia"),
    ("AL", "ALB", "Albania"),
    ("ME", "MNE", "Montenegro"),
    ("BA", "BIH", "Bosnia and Herzegovina"),
    ("MD", "MDA", "Moldova"),
    ("US", "USA", "United States"),
    ("CA", "CAN", "Canada"),
    ("AU", "AUS", "Australia"),
    ("JP", "JPN", "Japan"),
    ("CN", "CHN", "China"),
    ("IN", "IND", "India"),
    ("BR", "BRA", "Brazil"),
)

ACHIEVEMENT_TYPES = frozenset(OB3_ACHIEVEMENT_TYPES)
"""Open Badges 3.0 AchievementType values (an `ext:` prefixed name is an extension)."""

SCHEMES: dict[str, Scheme] = {
    s.key: s
    for s in (
        _scheme(
            "eqf",
            f"{SNB}/eqf/25831c2",
            "European Qualifications Framework level",
            f"{SNB}/eqf",
            tuple((str(n), str(n), f"Level {n}") for n in range(1, 9)),
        ),
        _scheme(
            "isced-f",
            f"{SNB}/isced-f/25831c2",
            "ISCED-F 2013 field of education and training",
            f"{SNB}/isced-f",
            tuple((code, code, label) for code, label in _ISCED_F),
        ),
        _scheme(
            "language", f"{AUTHORITY}/language", "Language", f"{AUTHORITY}/language", _LANGUAGES
        ),
        _scheme("country", f"{AUTHORITY}/country", "Country", f"{AUTHORITY}/country", _COUNTRIES),
        _scheme(
            "learning-setting",
            f"{SNB}/learning-setting/25831c2",
            "Learning setting",
            f"{SNB}/learning-setting",
            (
                ("formal", "6fd4685715", "formal learning"),
                ("non-formal", "e207a81fc7", "non-formal learning"),
            ),
        ),
        _scheme(
            "mode",
            f"{SNB}/learning-assessment/25831c2",
            "Mode of learning and assessment (form of participation)",
            f"{SNB}/learning-assessment",
            (
                ("online", "920fbb3cbe", "Online"),
                ("blended", "e92d221e4d", "Blended"),
                ("presential", "9191af2ed9", "Presential"),
                ("work-based", "729f3bed4b", "Workbased"),
                ("project-based", "7813801c77", "Project based"),
                ("research-lab-based", "ed4c557045", "Research-Lab based"),
            ),
        ),
        _scheme(
            "assessment",
            f"{SNB}/assessment/25831c2",
            "Type of assessment",
            f"{SNB}/assessment",
            (
                ("artefact-assessment", "de4d165a6c", "artefact assessment"),
                ("continuous-evaluation", "3484bd7e51", "continuous evaluation"),
                ("group-performance", "56539a6507", "group performance"),
                ("level-of-attendance", "7331eb4762", "level of attendance"),
                ("marked-assignment", "2939dae15f", "marked assignment"),
                ("oral-examination", "d30284d7df", "oral examination"),
                ("peer-assessment", "19a2e5e671", "peer assessment"),
                ("peer-review", "812e3b0ae1", "peer review"),
                ("portfolio", "4f03b91c0e", "portfolio"),
                ("practical-assessment", "6a4db9f11d", "practical assessment"),
                ("problem-based-learning", "c4256a2726", "problem based learning"),
                ("project-work", "795dac4096", "project work"),
                ("quiz", "b1b68f6735", "quiz"),
                ("written-examination", "6e6cb2cc78", "written examination"),
            ),
        ),
        _scheme(
            "quality-assurance",
            f"{SNB}/accreditation/25831c2",
            "Type of quality assurance",
            f"{SNB}/accreditation",
            (
                (
                    "institutional-quality-assurance",
                    "bb4618238e",
                    "Institutional Quality Assurance",
                ),
                ("program-quality-assurance", "820101cba6", "Program Quality Assurance"),
                ("institutional-license", "003293d2ce", "Institutional License"),
                ("program-license", "e57dddfcf3", "Program License"),
            ),
        ),
        _scheme(
            "supervision",
            f"{SNB}/supervision-verification/25831c2",
            "Supervision and identity verification",
            f"{SNB}/supervision-verification",
            (
                ("unsupervised-no-id", "c598449d64", "Unsupervised without ID Verification"),
                ("supervised-with-id", "70be69aaf9", "Supervised with ID Verification"),
            ),
        ),
        _scheme(
            "credit-system",
            f"{SNB}/education-credit/25831c2",
            "Credit system",
            f"{SNB}/education-credit",
            (
                ("ects", "6fcec5c5af", "European Credit Transfer System"),
                (
                    "ecvet",
                    "60b314e826",
                    "European credit system for vocational education and training",
                ),
            ),
        ),
        _scheme(
            "skill-type",
            f"{SNB}/skill-type/25831c2",
            "Skill type",
            f"{SNB}/skill-type",
            (("skill", "skill", "skill"), ("knowledge", "knowledge", "knowledge")),
        ),
        _scheme(
            "reuse-level",
            f"{SNB}/skill-reuse-level/25831c2",
            "Skill reuse level",
            f"{SNB}/skill-reuse-level",
            (
                ("transversal", "transversal", "transversal skills and competences"),
                ("cross-sector", "cross-sector", "cross-sector skills and competences"),
                ("sector-specific", "sector-specific", "sector specific skills and competences"),
                (
                    "occupation-specific",
                    "occupation-specific",
                    "occupation specific skills and competences",
                ),
            ),
        ),
    )
}


def _index(scheme: Scheme) -> dict[str, Concept]:
    index: dict[str, Concept] = {}
    for c in scheme.concepts:
        local = c.iri.rsplit("/", 1)[1]
        for key in (c.iri, c.code, c.code.lower(), c.code.upper(), local):
            index.setdefault(key, c)
    return index


_INDEX: dict[str, dict[str, Concept]] = {key: _index(s) for key, s in SCHEMES.items()}


def scheme(key: str) -> Scheme:
    try:
        return SCHEMES[key]
    except KeyError:
        raise UnknownConcept(f"unknown vocabulary {key!r}") from None


def concept(scheme_key: str, value: str | int) -> Concept:
    """The supported concept for a code or IRI, or UnknownConcept naming the allowed codes."""
    found = scheme(scheme_key).get(str(value).strip())
    if found is None:
        allowed = [c.code for c in SCHEMES[scheme_key].concepts]
        shown = ", ".join(allowed[:12]) + (", …" if len(allowed) > 12 else "")
        raise UnknownConcept(
            f"{value!r} is not a supported value of {SCHEMES[scheme_key].title!r} "
            f"(use one of: {shown})",
            details={"scheme": scheme_key, "value": str(value)},
        )
    return found


def code(scheme_key: str, value: str | int) -> str:
    """The stored code for a code or IRI (validates it)."""
    return concept(scheme_key, value).code


def check_achievement_type(value: str) -> str:
    if value in ACHIEVEMENT_TYPES or (value.startswith("ext:") and len(value) > 4):
        return value
    raise UnknownConcept(
        f"{value!r} is not an Open Badges 3.0 achievement type (e.g. MicroCredential, Course)"
    )
