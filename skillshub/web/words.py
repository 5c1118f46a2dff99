"""The public pages' words that come from the catalogue's data, in the reader's language.

(Page titles and messages set by routes are English msgids marked with `i18n.N_`; a template
shows them with i18n's `said` filter, which never treats its text as markup or as a format
string, so it is safe for any message, also one that echoes what a visitor typed.)

The labels of the EU controlled vocabularies (catalogue/vocabularies.py: modes, assessment
types, quality assurance, EQF levels, languages, countries, …) are facts of the catalogue, kept
in English there; the `vocab` filter shows a concept in the page's language: languages and
countries by their Babel (CLDR) names, the other schemes from the German catalogue.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from functools import cache
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from jinja2 import Environment, pass_context

from catalogue import vocabularies
from skillshub.web import i18n
from skillshub.web.i18n import FORMAT_LOCALES, N_

# The labels of the schemes translated through the catalogue, as catalogue/vocabularies.py
# writes them (tests/skillshub/test_i18n_catalogue_complete.py checks that every label of these
# schemes is here, so a new concept is not shown in English by mistake).
TRANSLATED_SCHEMES = (
    "learning-setting",
    "mode",
    "assessment",
    "quality-assurance",
    "supervision",
    "credit-system",
    "skill-type",
    "reuse-level",
)
VOCABULARY_LABELS = (
    # learning setting
    N_("formal learning"),
    N_("non-formal learning"),
    # mode of learning and assessment
    N_("Online"),
    N_("Blended"),
    N_("Presential"),
    N_("Workbased"),
    N_("Project based"),
    N_("Research-Lab based"),
    # type of assessment
    N_("artefact assessment"),
    N_("continuous evaluation"),
    N_("group performance"),
    N_("level of attendance"),
    N_("marked assignment"),
    N_("oral examination"),
    N_("peer assessment"),
    N_("peer review"),
    N_("portfolio"),
    N_("practical assessment"),
    N_("problem based learning"),
    N_("project work"),
    N_("quiz"),
    N_("written examination"),
    # type of quality assurance
    N_("Institutional Quality Assurance"),
    N_("Program Quality Assurance"),
    N_("Institutional License"),
    N_("Program License"),
    # supervision and identity verification
    N_("Unsupervised without ID Verification"),
    N_("Supervised with ID Verification"),
    # credit system
    N_("European Credit Transfer System"),
    N_("European credit system for vocational education and training"),
    # skill type
    N_("skill"),
    N_("knowledge"),
    # skill reuse level
    N_("transversal skills and competences"),
    N_("cross-sector skills and competences"),
    N_("sector specific skills and competences"),
    N_("occupation specific skills and competences"),
)
EQF_LEVEL = N_("Level %(level)s")
# ISCED-F 2013 fields of education and training: a label is a field, or a field and a
# qualifier ("… not further defined", "… not elsewhere classified").
ISCED_F_QUALIFIERS = {
    " not further defined": N_("%(field)s not further defined"),
    " not elsewhere classified": N_("%(field)s not elsewhere classified"),
}
ISCED_F_FIELDS = (
    N_("Generic programmes and qualifications"),
    N_("Basic programmes and qualifications"),
    N_("Literacy and numeracy"),
    N_("Personal skills and development"),
    N_("Education"),
    N_("Inter-disciplinary programmes and qualifications involving education"),
    N_("Education science"),
    N_("Training for pre-school teachers"),
    N_("Teacher training without subject specialisation"),
    N_("Teacher training with subject specialisation"),
    N_("Arts and humanities"),
    N_("Arts"),
    N_("Humanities (except languages)"),
    N_("Languages"),
    N_("Inter-disciplinary programmes and qualifications involving arts and humanities"),
    N_("Audio-visual techniques and media production"),
    N_("Fashion, interior and industrial design"),
    N_("Fine arts"),
    N_("Handicrafts"),
    N_("Music and performing arts"),
    N_("Religion and theology"),
    N_("History and archaeology"),
    N_("Philosophy and ethics"),
    N_("Inter-disciplinary programmes and qualifications involving humanities"),
    N_("Language acquisition"),
    N_("Literature and linguistics"),
    N_("Social sciences, journalism and information"),
    N_("Social and behavioural sciences"),
    N_("Journalism and information"),
    N_(
        "Inter-disciplinary programmes and qualifications involving social sciences, journalism and information"  # noqa: E501
    ),
    N_("Economics"),
    N_("Political sciences and civics"),
    N_("Psychology"),
    N_("Sociology and cultural studies"),
    N_("Journalism and reporting"),
    N_("Library, information and archival studies"),
    N_("Business, administration and law"),
    N_("Business and administration"),
    N_("Law"),
    N_(
        "Inter-disciplinary programmes and qualifications involving business, administration and law"  # noqa: E501
    ),
    N_("Accounting and taxation"),
    N_("Finance, banking and insurance"),
    N_("Management and administration"),
    N_("Marketing and advertising"),
    N_("Secretarial and office work"),
    N_("Wholesale and retail sales"),
    N_("Work skills"),
    N_("Natural sciences, mathematics and statistics"),
    N_("Biological and related sciences"),
    N_("Environment"),
    N_("Physical sciences"),
    N_("Mathematics and statistics"),
    N_(
        "Inter-disciplinary programmes and qualifications involving natural sciences, mathematics and statistics"  # noqa: E501
    ),
    N_("Biology"),
    N_("Biochemistry"),
    N_("Environmental sciences"),
    N_("Natural environments and wildlife"),
    N_("Chemistry"),
    N_("Earth sciences"),
    N_("Physics"),
    N_("Mathematics"),
    N_("Statistics"),
    N_("Information and Communication Technologies (ICTs)"),
    N_(
        "Inter-disciplinary programmes and qualifications involving Information and Communication Technologies (ICTs)"  # noqa: E501
    ),
    N_("Computer use"),
    N_("Database and network design and administration"),
    N_("Software and applications development and analysis"),
    N_("Information and communication technologies"),
    N_("Engineering, manufacturing and construction"),
    N_("Engineering and engineering trades"),
    N_("Manufacturing and processing"),
    N_("Architecture and construction"),
    N_(
        "Inter-disciplinary programmes and qualifications involving engineering, manufacturing and construction"  # noqa: E501
    ),
    N_("Chemical engineering and processes"),
    N_("Environmental protection technology"),
    N_("Electricity and energy"),
    N_("Electronics and automation"),
    N_("Mechanics and metal trades"),
    N_("Motor vehicles, ships and aircraft"),
    N_("Food processing"),
    N_("Materials (glass, paper, plastic and wood)"),
    N_("Textiles (clothes, footwear and leather)"),
    N_("Mining and extraction"),
    N_("Architecture and town planning"),
    N_("Building and civil engineering"),
    N_("Agriculture, forestry, fisheries and veterinary"),
    N_("Agriculture"),
    N_("Forestry"),
    N_("Fisheries"),
    N_("Veterinary"),
    N_(
        "Inter-disciplinary programmes and qualifications involving agriculture, forestry, fisheries and veterinary"  # noqa: E501
    ),
    N_("Crop and livestock production"),
    N_("Horticulture"),
    N_("Health and welfare"),
    N_("Health"),
    N_("Welfare"),
    N_("Inter-disciplinary programmes and qualifications involving health and welfare"),
    N_("Dental studies"),
    N_("Medicine"),
    N_("Nursing and midwifery"),
    N_("Medical diagnostic and treatment technology"),
    N_("Therapy and rehabilitation"),
    N_("Pharmacy"),
    N_("Traditional and complementary medicine and therapy"),
    N_("Care of the elderly and of disabled adults"),
    N_("Child care and youth services"),
    N_("Social work and counselling"),
    N_("Services"),
    N_("Personal services"),
    N_("Hygiene and occupational health services"),
    N_("Security services"),
    N_("Transport services"),
    N_("Inter-disciplinary programmes and qualifications involving services"),
    N_("Domestic services"),
    N_("Hair and beauty services"),
    N_("Hotel, restaurants and catering"),
    N_("Sports"),
    N_("Travel, tourism and leisure"),
    N_("Community sanitation"),
    N_("Occupational health and safety"),
    N_("Military and defence"),
    N_("Protection of persons and property"),
    N_("Field unknown"),
)


@cache
def _by_iri() -> dict[str, vocabularies.Concept]:
    return {c.iri: c for s in vocabularies.SCHEMES.values() for c in s.concepts}


def _language(context: Any) -> str:
    request = context.get("request")
    return i18n.language_of(request) if request is not None else i18n.DEFAULT


def vocabulary_label(concept: Any, language: str) -> str:
    """The label of a vocabulary concept (a Concept or a ConceptRef: anything with `iri` and
    `label`) in `language`; English, and anything unknown, as the catalogue writes it."""
    label = str(getattr(concept, "label", "") or "")
    if language == i18n.DEFAULT:
        return label
    known = _by_iri().get(str(getattr(concept, "iri", "")))
    if known is None:
        return label
    if known.scheme == "language":
        name = Locale.parse(language).languages.get(known.code)
        return name[:1].upper() + name[1:] if name else label
    if known.scheme == "country":
        return Locale.parse(language).territories.get(known.code) or label
    catalogue = i18n.translations(language)
    if known.scheme == "eqf":
        return catalogue.gettext(EQF_LEVEL) % {"level": known.code}
    if known.scheme in TRANSLATED_SCHEMES:
        return catalogue.gettext(label)
    if known.scheme == "isced-f":
        for suffix, qualified in ISCED_F_QUALIFIERS.items():
            if label.endswith(suffix):
                field = catalogue.gettext(label.removesuffix(suffix))
                return catalogue.gettext(qualified) % {"field": field}
        return catalogue.gettext(label)
    return label


@pass_context
def _vocab(context: Any, concept: Any, first_upper: bool = False) -> str:
    if concept is None:
        return ""
    label = vocabulary_label(concept, _language(context))
    return label[:1].upper() + label[1:] if first_upper else label


def _sort_key(text: str) -> str:
    """Alphabetical as readers expect it: "Österreich" with the O's, not after "Zypern"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@pass_context
def _by_vocab_label(context: Any, concepts: Any) -> list[Any]:
    """Concepts in the alphabetical order of their labels in the page's language."""
    language = _language(context)
    return sorted(concepts, key=lambda c: _sort_key(vocabulary_label(c, language)))


@pass_context
def _money(context: Any, amount: Any) -> str:
    """An amount with two decimals in the reader's form: "1,234.50", "1.234,50"."""
    if not isinstance(amount, int | float | Decimal):
        return str(amount)
    return format_decimal(amount, format="#,##0.00", locale=FORMAT_LOCALES[_language(context)])


@pass_context
def _rating(context: Any, value: Any) -> str:
    """An average rating with one decimal in the reader's form: "4.5", "4,5"."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    return format_decimal(number, format="0.0", locale=FORMAT_LOCALES[_language(context)])


def install(env: Environment) -> None:
    env.filters["rating"] = _rating
    env.filters["money"] = _money
    env.filters["vocab"] = _vocab
    env.filters["by_vocab_label"] = _by_vocab_label
