"""The demo catalogue: a small automotive hub around electric-vehicle batteries.

Skills and job roles are real ESCO concepts (URIs, labels, skill types and the occupations'
essential and optional skills as ESCO v1.2.0 publishes them); the three providers, their courses
and micro-credentials are invented. Loading is idempotent: a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, select

from catalogue import bulk, courses, micro_credentials, organisations, search
from catalogue.base import table_of
from catalogue.esco import SlugAllocator
from catalogue.models import (
    Course,
    JobRole,
    JobRoleSkill,
    MicroCredential,
    Organisation,
    Skill,
    SkillLevel,
)
from catalogue.schemas import CourseIn, MicroCredentialIn

ESCO = "http://data.europa.eu/esco"


@dataclass(frozen=True)
class EscoRole:
    uuid: str
    title: str
    isco: str
    code: str
    alt_titles: tuple[str, ...]
    description: str
    essential: tuple[str, ...]
    optional: tuple[str, ...]


# (ESCO skill UUID, preferred label, skill type, reuse level), from ESCO v1.2.0.
SKILLS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("81a2db2c-7e55-44d0-9cd9-74c25147d7cd", "analyse test data", None, None),
    ("dcc96a49-0bac-4a9c-8f8e-a32b4e47e6eb", "apply health and safety standards", None, None),
    ("136596a4-00b5-4ed3-bb6e-717198c1ccbe", "apply soldering techniques", "knowledge", None),
    ("f4e02d83-0a70-4195-b84c-989040fab081", "assemble automotive batteries", "knowledge", None),
    ("42f92768-cc76-488d-a721-e90c59ccaade", "assemble batteries", None, None),
    ("187f82c7-b165-4e6b-b327-704e38e85cdd", "automotive diagnostic equipment", "knowledge", None),
    ("84cc8c9d-db57-42ec-8948-9b632bf06124", "battery chemistry", "knowledge", None),
    ("8cf03262-b6b0-4fe8-9d66-91063bb32db3", "battery components", "knowledge", None),
    ("0864c444-c22f-46ee-ae1e-c0eeffd49c34", "battery design", "knowledge", None),
    ("142f7164-fe09-49ec-af18-7c9e86269d9e", "battery fluids", "knowledge", None),
    ("f820e9db-fdb1-4237-9c6b-6f912ca884e2", "battery formation", "knowledge", None),
    ("1cdd0afe-196f-4d8a-924f-4d7473cce3c7", "battery management systems", "knowledge", None),
    ("1b1c2d44-c487-4121-a2ed-dcda651f4d59", "car controls", "knowledge", None),
    ("edeade22-1c8d-40d2-818b-e5ef0473c481", "carry out improvised vehicle repairs", None, None),
    ("2aff15fb-1c24-42b5-89ca-17696df25370", "chemical products", "knowledge", None),
    ("62c65f51-b92f-43f7-bf66-a0ae1df19ef0", "clean vehicle exterior", None, None),
    ("0da516ee-e70e-4384-be13-f5ff80be8127", "communicate with customers", None, None),
    ("21d2f96d-35f7-4e3f-9745-c533d2dd6e97", "computer programming", "knowledge", "cross-sector"),
    ("7b5cce4d-c7fe-4119-b48f-70aa05391787", "computer science", "knowledge", "cross-sector"),
    ("bbd57056-80e0-45bb-a2c1-658ed99a1251", "conduct performance tests", None, None),
    ("d47a3128-b502-40d5-a8cb-68a62e44f25a", "conform with production requirements", None, None),
    ("4ff549c3-daa5-4def-9916-301c7bdf13b8", "control systems", "knowledge", "cross-sector"),
    (
        "a4a882a1-0263-4dd2-b29a-f0028cac2393",
        "define integration strategy",
        "skill",
        "sector-specific",
    ),
    (
        "311832d1-1167-47c7-b613-fc64784ffeed",
        "describe electric drive system",
        "skill",
        "sector-specific",
    ),
    ("63f224ea-d889-42ea-b3ef-730ef78c7176", "develop new products", None, None),
    ("e2887d71-8ff4-4188-9926-22bdaefa7713", "develop predictive models", None, None),
    ("458d8ab9-a385-4e78-9638-1c3f9ce3c586", "dispose of chemicals", "skill", "sector-specific"),
    ("40fa39b5-0f69-432a-b5ea-b01b5d98649a", "dispose of hazardous waste", "skill", "cross-sector"),
    ("57869946-cec2-4121-981c-84c9846c58d0", "electric current", None, None),
    ("3e40c7d0-0e36-4b33-bc33-0aa87eda0561", "electrical engineering", "knowledge", None),
    ("d15e92c4-c8dc-48cd-a1f6-94fe13347f87", "electrical wiring plans", "knowledge", None),
    ("c8ac1986-38fa-43b2-89dc-50a4beeb420e", "electricity", "knowledge", None),
    ("95c35c3a-035f-47c2-90cf-7e934d20fc08", "electronics", "knowledge", "cross-sector"),
    ("2180bd8c-86de-4889-8165-adac902eee9d", "embedded systems", "knowledge", "sector-specific"),
    ("6c6daac0-80f5-431f-a33f-c5b722094657", "energy storage systems", "knowledge", "cross-sector"),
    ("209a5498-3449-4689-8ed9-bd08cab4fd78", "engineering principles", "knowledge", None),
    ("cafc2723-c308-4058-9921-61306b5de924", "fasten components", None, None),
    (
        "198b614d-a9af-46f5-b3fd-2672b401dd8e",
        "health and safety in the workplace",
        "knowledge",
        None,
    ),
    (
        "90d04cf8-dcc1-45cf-93e1-a2eba80aed6f",
        "hybrid vehicle architecture",
        "knowledge",
        "sector-specific",
    ),
    ("958b8802-ec3e-4813-97f7-6c8f48610dbd", "identify process improvements", "knowledge", None),
    (
        "ec05b9ea-1cb7-4089-a708-0f55f5d903bd",
        "inspect for faults in the vehicle's electric system",
        "knowledge",
        None,
    ),
    ("7bb2bd48-0da4-427a-a94f-1eddf5565eba", "install automotive electrical equipment", None, None),
    ("9054e4ed-ec81-417e-9597-53a05e67fcc9", "install car electronics", "knowledge", None),
    ("2e8b97f7-a21e-4499-8271-0e462b0da4f2", "install transport equipment batteries", None, None),
    ("2876970d-90af-45bd-9cfd-c0af757947ea", "maintain electrical engines", None, None),
    ("386774ac-fe5b-431a-b485-9aec0bf5c09e", "maintain electrical equipment", "knowledge", None),
    ("9c071f1d-eac3-449d-b004-c14775b5a3b9", "mechanical engineering", "knowledge", None),
    ("efa141df-f382-418f-9121-bd88fd735669", "mechanics", "knowledge", None),
    ("7566f0b4-7f6e-455c-abb5-ec58e57f7e17", "mechanics of motor vehicles", "knowledge", None),
    ("7c8a86b2-b0ae-4969-901a-5949d9974755", "operate battery test equipment", "knowledge", None),
    ("e97733e8-5bf1-4c21-93c4-8bebbdabc394", "perform manual work autonomously", None, None),
    ("371d57e6-cc5f-4fc0-9c0c-58feb595cc5b", "perform product testing", None, None),
    ("465ff64a-1271-4064-8ed1-e969cb68d8b4", "perform test run", None, None),
    ("af851217-a577-401a-b7ed-887865e92951", "perform vehicle diagnostic procedures", None, None),
    ("7111b95d-0ce3-441a-9d92-4c75d05c4388", "project management", "knowledge", None),
    ("237db40b-4600-47c0-837f-4a2c4f3014ab", "project management principles", "knowledge", None),
    ("68b6ef08-d823-489d-a95c-752ae6f6e6a7", "read standard blueprints", "knowledge", None),
    (
        "3c4cfade-58c1-4f6d-9a0e-dabf78b0e9e0",
        "repair vehicle electrical systems",
        "knowledge",
        None,
    ),
    (
        "32285d7b-8c1f-4174-bff3-db01cbd7de44",
        "repair vehicle's electrical equipment",
        "knowledge",
        None,
    ),
    ("6eff134b-e34f-4d6e-a6e8-5e47cf2228d0", "risk management", "knowledge", None),
    ("47d491a9-f7c0-4b13-a10f-983d3aa0113e", "safety engineering", "knowledge", "cross-sector"),
    ("334e3e49-fb02-4051-809a-f06adfdc1c40", "troubleshoot", None, None),
    ("4394a7e8-ffec-4062-b679-a2570260a84f", "types of vehicles", "knowledge", None),
    (
        "5b264a14-d4db-4352-9278-fbb63c5ebed4",
        "use automotive diagnostic equipment",
        "knowledge",
        None,
    ),
    (
        "429f440f-9dc4-48d3-80ae-e58fce165cca",
        "use diagnostic tools for electronic repairs",
        None,
        None,
    ),
    (
        "5c221b93-667d-408b-a37b-bfeb2c94dd61",
        "use specialised tools in electric repairs",
        None,
        None,
    ),
    ("cffc3e97-e942-4b13-a2f3-0bf4910c06d3", "use technical documentation", None, None),
    ("3a5275f4-67e5-4371-a31e-68291aa86691", "vehicle electrical systems", "knowledge", None),
    ("6122d586-5978-431f-8e7a-96e61fc1f3fc", "wear appropriate protective gear", "knowledge", None),
    ("3d64b8fd-bb09-4d13-a3cf-300ed8909088", "write specifications", None, None),
)

JOB_ROLES: tuple[EscoRole, ...] = (
    EscoRole(
        uuid="7648d5d9-cfab-4981-ba82-b66a9a41d37e",
        title="battery system engineer",
        isco="2151",
        code="2151.4",
        alt_titles=(
            "automotive vehicle electronics analysis specialist",
            "electronic systems",
            "electronic systems engineer",
            "battery cell module engineer",
            "battery storage consultants",
        ),
        description=(
            "Battery system engineers are professionals that design, test and develop battery "
            "systems for various applications. They create efficient cost-effective energy "
            "storage solutions, working with a team of engineers and scientists. Some of the "
            "solutions are for electric vehicles, consumer electronics, grid storage and other "
            "applications. They are responsible for the overall performance of the battery "
            "system, which includes the battery cells, control and management electronics, "
            "thermal management and safety systems."
        ),
        essential=(
            "analyse test data",
            "battery chemistry",
            "battery design",
            "battery management systems",
            "computer programming",
            "computer science",
            "conform with production requirements",
            "control systems",
            "define integration strategy",
            "develop new products",
            "develop predictive models",
            "electrical engineering",
            "embedded systems",
            "engineering principles",
            "identify process improvements",
            "mechanical engineering",
            "perform product testing",
            "project management",
            "project management principles",
            "safety engineering",
            "troubleshoot",
            "vehicle electrical systems",
        ),
        optional=(
            "communicate with customers",
            "health and safety in the workplace",
            "risk management",
            "use technical documentation",
            "write specifications",
        ),
    ),
    EscoRole(
        uuid="06bd6285-13ed-4ea7-90cc-e9638a0600a9",
        title="automotive battery technician",
        isco="7412",
        code="7412.1",
        alt_titles=(
            "automotive battery tester",
            "battery installer",
            "truck battery technician",
            "bus battery technician",
            "lorry battery technician",
        ),
        description=(
            "Automotive battery technicians assemble, install, inspect, maintain and repair "
            "batteries in motor vehicles. They use electrical test equipment to confirm good "
            "working condition after installation. They evaluate batteries to determine the "
            "nature of power problems. They also prepare old batteries for disposal."
        ),
        essential=(
            "apply health and safety standards",
            "assemble batteries",
            "battery chemistry",
            "battery components",
            "battery design",
            "battery fluids",
            "battery formation",
            "battery management systems",
            "chemical products",
            "dispose of hazardous waste",
            "energy storage systems",
            "hybrid vehicle architecture",
            "install automotive electrical equipment",
            "install car electronics",
            "install transport equipment batteries",
            "maintain electrical engines",
            "maintain electrical equipment",
            "operate battery test equipment",
            "read standard blueprints",
            "repair vehicle electrical systems",
            "repair vehicle's electrical equipment",
            "use diagnostic tools for electronic repairs",
            "use technical documentation",
            "wear appropriate protective gear",
        ),
        optional=(
            "apply soldering techniques",
            "assemble automotive batteries",
            "describe electric drive system",
            "dispose of chemicals",
            "electric current",
            "electricity",
        ),
    ),
    EscoRole(
        uuid="6656337f-67eb-4f48-b1e4-ecccdfa44dd2",
        title="automotive electrician",
        isco="7412",
        code="7412.2",
        alt_titles=(
            "auto electrical technician",
            "autoelectrical technician",
            "motor vehicle electrical technician",
            "vehicle body electrician",
            "truck electrician",
        ),
        description=(
            "Automotive electricians install, maintain and repair electrical and electronic "
            "systems in motor vehicles such as air conditioning systems, lamps, radios, heating "
            "systems, batteries, electrical wiring and alternators. They use diagnostic testing "
            "equipment to inspect vehicles and find faults. To do repair work, they use hand "
            "tools and specialised electrical instruments and machines."
        ),
        essential=(
            "apply health and safety standards",
            "automotive diagnostic equipment",
            "car controls",
            "carry out improvised vehicle repairs",
            "electrical wiring plans",
            "electricity",
            "electronics",
            "energy storage systems",
            "fasten components",
            "inspect for faults in the vehicle's electric system",
            "install automotive electrical equipment",
            "install car electronics",
            "mechanics",
            "mechanics of motor vehicles",
            "perform manual work autonomously",
            "perform test run",
            "perform vehicle diagnostic procedures",
            "read standard blueprints",
            "repair vehicle's electrical equipment",
            "troubleshoot",
            "types of vehicles",
            "use automotive diagnostic equipment",
            "use specialised tools in electric repairs",
            "use technical documentation",
            "vehicle electrical systems",
            "wear appropriate protective gear",
        ),
        optional=(
            "apply soldering techniques",
            "battery chemistry",
            "battery components",
            "battery fluids",
            "clean vehicle exterior",
            "conduct performance tests",
        ),
    ),
)

# Levels the demo asks above ESCO's default (practitioner for essential, awareness for optional).
EXPERT = {
    "battery system engineer": ("battery chemistry", "battery design", "battery management systems")
}

PROVIDERS: tuple[dict[str, str], ...] = (
    {
        "slug": "voltacademy",
        "legal_name": "VoltAcademy Batterietechnik GmbH",
        "country": "DE",
        "homepage": "https://voltacademy.example",
        "registration_id": "HRB 700001",
    },
    {
        "slug": "emobility-institute",
        "legal_name": "E-Mobility Institute Eindhoven B.V.",
        "country": "NL",
        "homepage": "https://emobility-institute.example",
        "registration_id": "KvK 90000001",
    },
    {
        "slug": "escola-mobilidade",
        "legal_name": "Escola de Mobilidade Elétrica, Lda.",
        "country": "PT",
        "homepage": "https://escola-mobilidade.example",
        "registration_id": "NIPC 500000001",
    },
)

P, A, X = SkillLevel.practitioner, SkillLevel.awareness, SkillLevel.expert

# (provider slug, course fields, [(skill label, level)])
COURSES: tuple[tuple[str, dict[str, Any], tuple[tuple[str, SkillLevel], ...]], ...] = (
    (
        "voltacademy",
        {
            "slug": "battery-cell-chemistry-and-design",
            "title": "Battery Cell Chemistry and Design",
            "description": "Lithium-ion cell chemistries, electrode and cell design, formation "
            "and ageing, and how cells become modules and packs for electric vehicles.",
            "languages": ["en", "de"],
            "mode": "blended",
            "learning_setting": "formal",
            "workload_hours": 150,
            "ects": 6,
            "eqf_level": 6,
            "isced_f": "0713",
            "country": "DE",
            "region": "Baden-Württemberg",
            "price": {"amount": "1450.00", "currency": "EUR"},
            "url": "https://voltacademy.example/courses/cell-chemistry",
            "start_dates": [date(2027, 3, 1), date(2027, 9, 6)],
        },
        (
            ("battery chemistry", X),
            ("battery design", X),
            ("battery components", P),
            ("battery formation", P),
            ("energy storage systems", P),
            ("chemical products", A),
        ),
    ),
    (
        "voltacademy",
        {
            "slug": "battery-management-systems-engineering",
            "title": "Battery Management Systems Engineering",
            "description": "State-of-charge and state-of-health estimation, cell balancing, "
            "thermal management and embedded BMS software, with test data from real packs.",
            "languages": ["en"],
            "mode": "online",
            "learning_setting": "non-formal",
            "workload_hours": 125,
            "ects": 5,
            "eqf_level": 6,
            "isced_f": "0714",
            "country": "DE",
            "price": {"amount": "980.00", "currency": "EUR"},
            "url": "https://voltacademy.example/courses/bms",
            "start_dates": [date(2027, 2, 1)],
        },
        (
            ("battery management systems", X),
            ("embedded systems", P),
            ("control systems", P),
            ("computer programming", P),
            ("develop predictive models", P),
            ("analyse test data", P),
        ),
    ),
    (
        "emobility-institute",
        {
            "slug": "high-voltage-safety-for-ev-technicians",
            "title": "High-Voltage Safety for EV Technicians",
            "description": "Working safely on high-voltage electric and hybrid vehicles: "
            "isolation, protective gear, hazardous waste and the safety rules of the workshop.",
            "languages": ["en", "nl"],
            "mode": "presential",
            "learning_setting": "non-formal",
            "workload_hours": 40,
            "eqf_level": 4,
            "isced_f": "0716",
            "country": "NL",
            "region": "Noord-Brabant",
            "price": {"amount": "650.00", "currency": "EUR"},
            "url": "https://emobility-institute.example/hv-safety",
            "start_dates": [date(2027, 1, 18), date(2027, 4, 12)],
        },
        (
            ("apply health and safety standards", P),
            ("wear appropriate protective gear", P),
            ("dispose of hazardous waste", P),
            ("dispose of chemicals", P),
            ("health and safety in the workplace", P),
            ("safety engineering", P),
        ),
    ),
    (
        "emobility-institute",
        {
            "slug": "ev-battery-pack-assembly-and-testing",
            "title": "EV Battery Pack Assembly and Testing",
            "description": "Work-based training on an assembly line: building battery packs, "
            "installing them in vehicles, testing them and finding faults.",
            "languages": ["en", "nl"],
            "mode": "work-based",
            "learning_setting": "non-formal",
            "workload_hours": 80,
            "eqf_level": 4,
            "isced_f": "0716",
            "country": "NL",
            "region": "Noord-Brabant",
            "url": "https://emobility-institute.example/pack-assembly",
        },
        (
            ("assemble batteries", P),
            ("assemble automotive batteries", P),
            ("install transport equipment batteries", P),
            ("operate battery test equipment", P),
            ("perform product testing", P),
            ("troubleshoot", P),
            ("battery fluids", P),
        ),
    ),
    (
        "escola-mobilidade",
        {
            "slug": "vehicle-electrical-systems-and-diagnostics",
            "title": "Vehicle Electrical Systems and Diagnostics",
            "description": "Electrical and electronic systems of electric and hybrid cars: "
            "wiring plans, diagnostic equipment and procedures, repair and installation.",
            "languages": ["en", "pt"],
            "mode": "blended",
            "learning_setting": "formal",
            "workload_hours": 100,
            "ects": 4,
            "eqf_level": 5,
            "isced_f": "0716",
            "country": "PT",
            "region": "Norte",
            "price": {"amount": "720.00", "currency": "EUR"},
            "url": "https://escola-mobilidade.example/diagnostics",
            "start_dates": [date(2027, 10, 4)],
        },
        (
            ("vehicle electrical systems", P),
            ("repair vehicle electrical systems", P),
            ("use diagnostic tools for electronic repairs", P),
            ("perform vehicle diagnostic procedures", P),
            ("use automotive diagnostic equipment", P),
            ("install car electronics", P),
            ("electrical wiring plans", P),
            ("read standard blueprints", P),
            ("use technical documentation", P),
            ("electrical engineering", P),
        ),
    ),
    (
        "escola-mobilidade",
        {
            "slug": "engineering-project-management-for-e-mobility",
            "title": "Engineering Project Management for E-Mobility",
            "description": "Running battery and vehicle development projects: integration "
            "strategy, specifications, risk, production requirements and continuous improvement.",
            "languages": ["en", "pt"],
            "mode": "online",
            "learning_setting": "non-formal",
            "workload_hours": 75,
            "ects": 3,
            "eqf_level": 6,
            "isced_f": "0413",
            "country": "PT",
            "price": {"amount": "390.00", "currency": "EUR"},
            "url": "https://escola-mobilidade.example/project-management",
            "start_dates": [date(2027, 5, 3)],
        },
        (
            ("project management", P),
            ("project management principles", P),
            ("risk management", P),
            ("identify process improvements", P),
            ("develop new products", P),
            ("define integration strategy", P),
            ("write specifications", P),
            ("conform with production requirements", P),
        ),
    ),
)

# Micro-credential fields; learning outcomes as (text, skill labels). A stacking target
# comes before the micro-credential that stacks towards it.
MICRO_CREDENTIALS: tuple[dict[str, Any], ...] = (
    {
        "slug": "bms-engineer",
        "course": "battery-management-systems-engineering",
        "title": "Battery Management Systems Engineer",
        "description": "Designs, programs and validates the battery management system of an "
        "electric-vehicle battery pack.",
        "learning_outcomes": [
            (
                "Design state-of-charge and state-of-health estimators and validate them "
                "against measured pack data.",
                ["battery management systems", "develop predictive models", "analyse test data"],
            ),
            (
                "Implement and test embedded BMS control software for cell balancing and "
                "thermal management.",
                ["embedded systems", "control systems", "computer programming"],
            ),
        ],
        "ects": 5,
        "workload_hours": 125,
        "eqf_level": 6,
        "assessment_type": "project-work",
        "mode": "online",
        "quality_assurance": "program-quality-assurance",
        # A made-up agency: the demo names no real one.
        "quality_assurance_body": {
            "name": "Demo Accreditation Agency for Engineering Programmes",
            "country": "DE",
            "homepage": "https://accreditation.example",
        },
        "maximum_duration": "P6M",
        "prerequisites": "A bachelor's degree in electrical engineering or equivalent experience.",
        "supervision": "supervised-with-id",
        "grade_scheme": "German grades 1.0 (very good) to 4.0 (sufficient); 5.0 is a fail.",
        "further_information": "https://voltacademy.example/courses/bms",
        "criteria_narrative": "Deliver a working BMS estimator and controller for the course "
        "pack, documented and defended in an online panel with identity check.",
        "languages": ["en"],
    },
    {
        "slug": "battery-cell-specialist",
        "course": "battery-cell-chemistry-and-design",
        "title": "Battery Cell Specialist",
        "description": "Chooses and designs lithium-ion cells for electric-vehicle packs.",
        "learning_outcomes": [
            (
                "Compare cell chemistries and choose one for a given vehicle application.",
                ["battery chemistry", "energy storage systems"],
            ),
            (
                "Design a cell and its formation process from components to finished cell.",
                ["battery design", "battery components", "battery formation"],
            ),
        ],
        "ects": 6,
        "workload_hours": 150,
        "eqf_level": 6,
        "assessment_type": "written-examination",
        "mode": "blended",
        "quality_assurance": "institutional-quality-assurance",
        "supervision": "supervised-with-id",
        "grade_scheme": "German grades 1.0 (very good) to 4.0 (sufficient); 5.0 is a fail.",
        "stackable_towards": "bms-engineer",
        "further_information": "https://voltacademy.example/courses/cell-chemistry",
        "criteria_narrative": "Pass the supervised written examination (at least 50 %) and "
        "the cell design lab.",
        "valid_for_months": None,
        "languages": ["en", "de"],
    },
    {
        "slug": "hv-safety-certificate",
        "course": "high-voltage-safety-for-ev-technicians",
        "title": "High-Voltage Safety Certificate",
        "description": "May work on de-energised high-voltage systems of electric vehicles.",
        "learning_outcomes": [
            (
                "Isolate a high-voltage vehicle system and prove it dead, wearing the right "
                "protective gear.",
                ["apply health and safety standards", "wear appropriate protective gear"],
            ),
            (
                "Handle and dispose of damaged cells, electrolyte and other hazardous waste.",
                ["dispose of hazardous waste", "dispose of chemicals"],
            ),
            (
                "Keep a workshop safe for high-voltage work.",
                ["health and safety in the workplace", "safety engineering"],
            ),
        ],
        "workload_hours": 40,
        "eqf_level": 4,
        "assessment_type": "practical-assessment",
        "mode": "presential",
        "quality_assurance": "institutional-license",
        "supervision": "supervised-with-id",
        "grade_scheme": "Pass or fail.",
        "criteria_narrative": "Pass the supervised practical assessment on a training vehicle.",
        "valid_for_months": 24,
        "achievement_type": "Certification",
        "languages": ["en", "nl"],
    },
    {
        "slug": "battery-pack-assembler",
        "course": "ev-battery-pack-assembly-and-testing",
        "title": "EV Battery Pack Assembler",
        "description": "Builds, installs and tests electric-vehicle battery packs.",
        "learning_outcomes": [
            (
                "Assemble a battery pack from modules and install it in a vehicle.",
                [
                    "assemble batteries",
                    "assemble automotive batteries",
                    "install transport equipment batteries",
                ],
            ),
            (
                "Test a finished pack and trace the faults found.",
                ["operate battery test equipment", "perform product testing", "troubleshoot"],
            ),
        ],
        "workload_hours": 80,
        "eqf_level": 4,
        "assessment_type": "practical-assessment",
        "mode": "work-based",
        "quality_assurance": "program-quality-assurance",
        "prerequisites": "The High-Voltage Safety Certificate.",
        "supervision": "supervised-with-id",
        "grade_scheme": "Pass or fail.",
        "criteria_narrative": "Assessed at the workplace by a certified assessor.",
        "languages": ["en", "nl"],
    },
    {
        "slug": "ev-electrical-diagnostics",
        "course": "vehicle-electrical-systems-and-diagnostics",
        "title": "EV Electrical Diagnostics",
        "description": "Diagnoses and repairs the electrical systems of electric and hybrid cars.",
        "learning_outcomes": [
            (
                "Read wiring plans and diagnose faults with automotive diagnostic equipment.",
                [
                    "electrical wiring plans",
                    "use automotive diagnostic equipment",
                    "perform vehicle diagnostic procedures",
                ],
            ),
            (
                "Repair and install vehicle electrical and electronic equipment.",
                ["repair vehicle electrical systems", "install car electronics"],
            ),
        ],
        "ects": 4,
        "workload_hours": 100,
        "eqf_level": 5,
        "assessment_type": "oral-examination",
        "mode": "blended",
        "quality_assurance": "institutional-quality-assurance",
        "supervision": "supervised-with-id",
        "grade_scheme": "Portuguese scale 0 to 20; 10 is a pass.",
        "criteria_narrative": "Pass the oral examination and three graded diagnostic cases.",
        "valid_for_months": 36,
        "languages": ["en", "pt"],
    },
    {
        "slug": "e-mobility-project-manager",
        "course": "engineering-project-management-for-e-mobility",
        "title": "E-Mobility Project Manager",
        "description": "Plans and steers battery and vehicle development projects.",
        "learning_outcomes": [
            (
                "Plan an engineering project with its integration strategy, specifications "
                "and risks.",
                [
                    "project management",
                    "define integration strategy",
                    "write specifications",
                    "risk management",
                ],
            ),
            (
                "Bring a new product into production and improve the process.",
                [
                    "develop new products",
                    "conform with production requirements",
                    "identify process improvements",
                ],
            ),
        ],
        "ects": 3,
        "workload_hours": 75,
        "eqf_level": 6,
        "assessment_type": "marked-assignment",
        "mode": "online",
        "quality_assurance": "institutional-quality-assurance",
        "supervision": "unsupervised-no-id",
        "grade_scheme": "Portuguese scale 0 to 20; 10 is a pass.",
        "criteria_narrative": "Three marked assignments, each at least 10 of 20.",
        "languages": ["en", "pt"],
    },
)


def _iri(kind: str, uuid: str) -> str:
    return f"{ESCO}/{kind}/{uuid}"


SKILL_IRIS = {label: _iri("skill", uuid) for uuid, label, _t, _r in SKILLS}


def _organisation(session: Session, fields: dict[str, str]) -> Organisation:
    found = session.exec(select(Organisation).where(Organisation.slug == fields["slug"])).first()
    return found or organisations.create_organisation(session, **fields)


def _skills_and_roles(session: Session) -> None:
    """Upsert the ESCO concepts; what an ESCO import already holds is left as it is."""
    now = datetime.now(UTC)
    skill_table = table_of(Skill)
    slugs = SlugAllocator(session, skill_table)
    rows = [
        {
            "iri": _iri("skill", uuid),
            "slug": slugs(_iri("skill", uuid), label),
            "preferred_label": label,
            "alt_labels": "",
            "description": None,
            "skill_type": skill_type,
            "reuse_level": reuse,
            "created_at": now,
            "updated_at": now,
        }
        for uuid, label, skill_type, reuse in SKILLS
    ]
    bulk.upsert(session, skill_table, rows, key=("iri",))
    role_table = table_of(JobRole)
    slugs = SlugAllocator(session, role_table)
    rows = [
        {
            "iri": _iri("occupation", r.uuid),
            "slug": slugs(_iri("occupation", r.uuid), r.title),
            "title": r.title,
            "alt_titles": "\n".join(r.alt_titles),
            "description": r.description,
            "isco_code": r.isco,
            "esco_code": r.code,
            "created_at": now,
            "updated_at": now,
        }
        for r in JOB_ROLES
    ]
    bulk.upsert(session, role_table, rows, key=("iri",))
    skill_ids: dict[str, int] = dict(
        session.exec(select(skill_table.c.iri, skill_table.c.id)).all()
    )
    role_ids: dict[str, int] = dict(session.exec(select(role_table.c.iri, role_table.c.id)).all())
    links = []
    for role in JOB_ROLES:
        expert = EXPERT.get(role.title, ())
        for essential, labels in ((True, role.essential), (False, role.optional)):
            for label in labels:
                level = X if label in expert else P if essential else A
                links.append(
                    {
                        "job_role_id": role_ids[_iri("occupation", role.uuid)],
                        "skill_id": skill_ids[SKILL_IRIS[label]],
                        "level": level.value,
                        "essential": essential,
                    }
                )
    bulk.upsert(
        session,
        table_of(JobRoleSkill),
        links,
        key=("job_role_id", "skill_id"),
        update=("level", "essential"),
    )
    search.index(session, "skill", [skill_ids[i] for i in SKILL_IRIS.values()])
    search.index(session, "job_role", [role_ids[_iri("occupation", r.uuid)] for r in JOB_ROLES])


def _course(session: Session, org: Organisation, data: CourseIn) -> None:
    existing = session.exec(select(Course).where(Course.slug == data.slug)).first()
    if existing is None:
        courses.create_course(session, org, data)
    else:  # an identical update writes nothing
        courses.update_course(session, org, existing.slug, data)


def _micro_credential(session: Session, org: Organisation, data: MicroCredentialIn) -> None:
    existing = session.exec(
        select(MicroCredential).where(MicroCredential.slug == data.slug)
    ).first()
    if existing is None:
        micro_credentials.create_micro_credential(session, org, data)
    else:
        micro_credentials.update_micro_credential(session, org, existing.slug, data)


def load_demo_catalogue(session: Session) -> dict[str, int]:
    """Load (or bring back to its original state) the demo catalogue; returns what it holds."""
    orgs = {p["slug"]: _organisation(session, p) for p in PROVIDERS}
    _skills_and_roles(session)
    owner: dict[str, Organisation] = {}
    for provider, fields, taught in COURSES:
        skills = [{"iri": SKILL_IRIS[label], "level": level} for label, level in taught]
        _course(session, orgs[provider], CourseIn.model_validate({**fields, "skills": skills}))
        owner[fields["slug"]] = orgs[provider]
    for fields in MICRO_CREDENTIALS:
        outcomes = [
            {"text": text, "skills": [SKILL_IRIS[label] for label in labels]}
            for text, labels in fields["learning_outcomes"]
        ]
        data = MicroCredentialIn.model_validate({**fields, "learning_outcomes": outcomes})
        _micro_credential(session, owner[fields["course"]], data)
    return {
        "organisations": len(PROVIDERS),
        "skills": len(SKILLS),
        "job roles": len(JOB_ROLES),
        "courses": len(COURSES),
        "micro-credentials": len(MICRO_CREDENTIALS),
    }
