"""The catalogue pages through the real app on both databases: what each page shows is read
from the services (the same views the JSON API returns), then found in the rendered HTML."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

import pytest
from PIL import Image
from pyld import jsonld
from sqlmodel import Session, select

from badges.issuing import service as issuing
from catalogue import courses, gap, micro_credentials, organisations, skills
from catalogue.base import pk
from catalogue.demo import SKILL_IRIS, load_demo_catalogue
from catalogue.models import Course, MicroCredential, SkillLabel
from catalogue.schemas import MicroCredentialOut
from openbadges_schemas.loader import default_loader
from openbadges_schemas.ob3 import Achievement
from tests.support.catalogue import bearer, course_payload, micro_credential_payload, provider_token
from tests.support.present import present

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ROLE = "battery-system-engineer"
# Annex I of Council Recommendation 2022/C 243/02: the labels, in its order.
EU_MANDATORY = [
    "Identification of the learner",
    "Title of the micro-credential",
    "Country / region of the issuer",
    "Awarding body",
    "Date of issuing",
    "Learning outcomes",
    "Notional workload",
    "Level",
    "Type of assessment",
    "Form of participation",
    "Type of quality assurance",
]
EU_OPTIONAL = [
    "Prerequisites",
    "Supervision and identity verification",
    "Maximum duration",
    "Grade scheme",
    "Integration / stackability",
    "Further information",
]


# --- a small DOM, enough to read pages -------------------------------------------------------

_VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    def iter(self) -> Any:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        found = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if all(self._has(node, key, value) for key, value in attrs.items()):
                found.append(node)
        return found

    @staticmethod
    def _has(node: Node, key: str, value: str) -> bool:
        name = key.rstrip("_").replace("_", "-")  # class_ -> class, data_x -> data-x
        if name == "class":
            return value in (node.attrs.get("class") or "").split()
        return node.attrs.get(name) == value

    def find(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", {}, None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A bare attribute (`<input checked>`) has the empty string as its value, as in the DOM.
        node = Node(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    return builder.root.find("main")


def facts(main: Node) -> dict[str, Node]:
    """Every dt of the page's fact lists and the dd after it."""
    pairs: dict[str, Node] = {}
    for dl in main.find_all("dl"):
        items = [c for c in dl.children if isinstance(c, Node)]
        for dt, dd in pairwise(items):
            if dt.tag == "dt" and dd.tag == "dd":
                pairs[dt.text] = dd
    return pairs


def page(client: Any, url: str) -> Node:
    response = client.get(url, headers=HTML)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return parse(response.text)


@pytest.fixture
def demo(session: Session) -> None:
    load_demo_catalogue(session)
    session.commit()


# --- micro-credentials --------------------------------------------------------------------------


_DURATIONS = {"P6M": "6 months"}  # the demo's


def _expected_values(view: MicroCredentialOut) -> dict[str, list[str]]:
    workload = [f"{view.ects:g} ECTS"] if view.ects is not None else []
    workload += [f"{view.workload_hours:g} hours"] if view.workload_hours is not None else []
    return {
        "Identification of the learner": ["at issuance"],
        "Title of the micro-credential": [view.title],
        "Country / region of the issuer": [
            view.country.label,
            *([view.region] if view.region else []),
        ],
        "Awarding body": [view.awarding_body.legal_name],
        "Date of issuing": ["at issuance"],
        "Learning outcomes": [
            part for o in view.learning_outcomes for part in (o.text, *(s.label for s in o.skills))
        ],
        "Notional workload": workload,
        "Level": [f"EQF {view.eqf_level.label}"],
        "Type of assessment": [view.assessment_type.label],
        "Form of participation": [view.mode.label],
        "Type of quality assurance": [
            view.quality_assurance.label,
            *(
                [view.quality_assurance_body.name, view.quality_assurance_body.country.label]
                if view.quality_assurance_body
                else []
            ),
        ],
        "Maximum duration": [_DURATIONS.get(view.maximum_duration or "", "Not stated")],
        "Prerequisites": [view.prerequisites or "None"],
        "Supervision and identity verification": [
            view.supervision.label if view.supervision else "Not stated"
        ],
        "Grade scheme": [view.grade_scheme or "Not graded"],
        "Integration / stackability": [
            view.stackable_towards.title if view.stackable_towards else "Stand-alone"
        ],
        "Further information": [view.further_information or "None"],
    }


def test_micro_credential_page_shows_every_eu_element(
    client: Any, session: Session, demo: None
) -> None:
    slugs = session.exec(select(MicroCredential.slug).order_by(MicroCredential.slug)).all()
    assert slugs
    for slug in slugs:
        view = micro_credentials.micro_credential_view(
            session, micro_credentials.get_micro_credential(session, slug)
        )
        main = page(client, f"/micro-credentials/{slug}")
        assert main.find("h1").text == view.title
        pairs = facts(main)
        labels = list(pairs)
        assert labels[: len(EU_MANDATORY + EU_OPTIONAL)] == EU_MANDATORY + EU_OPTIONAL
        for label, values in _expected_values(view).items():
            shown = pairs[label].text.lower()
            for value in values:
                assert value.lower() in shown, (slug, label, value, shown)
        outcome_items = pairs["Learning outcomes"].find("ol").find_all("p")
        assert [p.text for p in outcome_items] == [o.text for o in view.learning_outcomes]
        skill_links = {a.attrs["href"] for a in pairs["Learning outcomes"].find_all("a")}
        assert skill_links == {
            f"/skills/{s.slug}" for o in view.learning_outcomes for s in o.skills
        }
        if view.stackable_towards:
            link = pairs["Integration / stackability"].find("a")
            assert link.attrs["href"] == f"/micro-credentials/{view.stackable_towards.slug}"
        validity = pairs["Validity"].text
        if view.valid_for_months:
            assert f"Valid for {view.valid_for_months} months" in validity
        else:
            assert validity == "Does not expire"
        assert pairs["Criteria"].text == " ".join((view.criteria_narrative or view.title).split())
        assert pairs["Open Badges achievement"].find("code").text == (
            f"http://testserver/micro-credentials/{slug}"
        )
        assert main.find_all("img") == []  # no uploaded image yet
    # The demo names a body and a duration for one of them, in the page's language too.
    german = client.get("/micro-credentials/bms-engineer?lang=de", headers={"accept": "text/html"})
    assert "6 Monate" in german.text


def test_micro_credential_badge_image_only_when_uploaded(
    client: Any, session: Session, demo: None
) -> None:
    token = provider_token(session, "voltacademy")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "#1d4ed8").save(buffer, "PNG")
    uploaded = client.put(
        "/api/v1/micro-credentials/bms-engineer/image",
        content=buffer.getvalue(),
        headers={**bearer(token), "content-type": "image/png"},
    )
    assert uploaded.status_code == 200, uploaded.text
    [img] = page(client, "/micro-credentials/bms-engineer").find_all("img")
    assert img.attrs["src"] == "/micro-credentials/bms-engineer/image"
    assert "Battery Management Systems Engineer" in (img.attrs["alt"] or "")
    served = client.get(img.attrs["src"] or "")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    # Another provider's micro-credential has none: no image there.
    assert page(client, "/micro-credentials/hv-safety-certificate").find_all("img") == []


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/ld+json", "application/ld+json"),
        ("application/json", "application/json"),
        ("application/ld+json, text/html;q=0.5", "application/ld+json"),
        (None, "application/ld+json"),
    ],
)
def test_micro_credential_json_ld(
    client: Any,
    session: Session,
    settings: Any,
    demo: None,
    accept: str | None,
    media_type: str,
) -> None:
    headers = {"accept": accept} if accept else {}
    response = client.get("/micro-credentials/battery-cell-specialist", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "accept" in response.headers["vary"].lower()
    document = response.json()
    assert document["@context"] == [
        issuing.CREDENTIALS_V2,
        issuing.OB_V3P0_CONTEXT_303,
        issuing.EU_MICROCREDENTIAL_V1,
    ]
    mc = micro_credentials.get_micro_credential(session, "battery-cell-specialist")
    expected = issuing.build_achievement(
        session, mc, issuing.Urls(settings.base_url), with_grade=False
    )
    assert {k: v for k, v in document.items() if k != "@context"} == expected
    assert document["id"] == "http://testserver/micro-credentials/battery-cell-specialist"
    Achievement.model_validate(expected)
    # Every term is defined by the three contexts (pinned, offline): nothing is dropped.
    expanded = jsonld.expand(document, {"documentLoader": default_loader()})
    compacted = jsonld.compact(
        expanded, {"@context": document["@context"]}, {"documentLoader": default_loader()}
    )
    assert set(compacted) - {"@context"} == set(expected)


def test_micro_credential_hostile_text_is_escaped(client: Any, session: Session) -> None:
    load_demo_catalogue(session)
    session.commit()
    token = provider_token(session, "hostile-academy")
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    created = client.post(
        "/api/v1/courses", json=course_payload(title=f"Course {hostile}"), headers=bearer(token)
    )
    assert created.status_code == 201, created.text
    course = created.json()["slug"]
    payload = micro_credential_payload(
        course,
        title=f"Badge {hostile}",
        further_information="javascript:alert(1)",
        badge_image_url=None,
        learning_outcomes=[{"text": hostile, "skills": [SKILL_IRIS["battery design"]]}],
    )
    made = client.post("/api/v1/micro-credentials", json=payload, headers=bearer(token))
    assert made.status_code == 201, made.text
    for url in (f"/courses/{course}", f"/micro-credentials/{made.json()['slug']}"):
        response = client.get(url, headers=HTML)
        assert response.status_code == 200
        main_html = response.text.split('<main id="main"', 1)[1]
        assert "<script" not in main_html and "<img src=x" not in main_html
        assert "&lt;script&gt;" in main_html
        hrefs = [a.attrs.get("href") or "" for a in parse(response.text).find_all("a")]
        assert not any(h.lower().startswith("javascript:") for h in hrefs)
    pairs = facts(parse(client.get(f"/micro-credentials/{made.json()['slug']}", headers=HTML).text))
    assert pairs["Further information"].text == "javascript:alert(1)"
    assert pairs["Further information"].find_all("a") == []


def test_reflected_input_is_escaped(client: Any, demo: None) -> None:
    hostile = '"><script>alert(1)</script>'
    for url in (
        "/search?" + urlencode({"q": hostile}),
        "/gap?" + urlencode({"job_role": ROLE, "iris": hostile, "show": "1"}),
        "/gap?" + urlencode({"job_role": hostile}),
    ):
        response = client.get(url, headers=HTML)
        assert "<script>alert(1)" not in response.text, url
        assert "&lt;script&gt;alert(1)" in response.text, url


# --- job roles, courses, skills, providers ------------------------------------------------------


def test_job_role_page_lists_essential_skills_before_optional(
    client: Any, session: Session, demo: None
) -> None:
    view = skills.job_role_view(session, skills.get_job_role(session, ROLE))
    assert any(s.essential for s in view.skills) and any(not s.essential for s in view.skills)
    main = page(client, f"/job-roles/{ROLE}")
    assert main.find("h1").text == view.title
    headings = [h.text for h in main.find_all("h3")]
    essential_at = next(i for i, h in enumerate(headings) if h.startswith("Essential skills"))
    optional_at = next(i for i, h in enumerate(headings) if h.startswith("Optional skills"))
    assert essential_at < optional_at
    rows = [tr for tr in main.find_all("tr") if "data-essential" in tr.attrs]
    flags = [tr.attrs["data-essential"] for tr in rows]
    assert flags == sorted(flags, reverse=True)  # every "yes" before the first "no"
    shown = [(tr.find("a").text, tr.find_all("td")[1].text) for tr in rows]
    assert shown == [(s.label, s.level.value.capitalize()) for s in view.skills]
    pairs = facts(main)
    assert pairs["ESCO occupation"].find("a").attrs["href"] == view.iri
    assert pairs["ISCO-08 group"].text == view.isco_code
    assert pairs["ISCO-08 group"].find("a").attrs["href"].endswith(f"/isco/C{view.isco_code}")
    course_links = [a.attrs["href"] for a in main.find_all("a") if "/courses/" in a.attrs["href"]]
    assert course_links == [f"/courses/{c.slug}" for c in view.courses]
    gap_link = main.find("a", class_="button")
    assert gap_link.attrs["href"] == f"/gap?job_role={ROLE}"


def test_course_page_shows_its_facts_skills_and_micro_credentials(
    client: Any, session: Session, demo: None
) -> None:
    slug = "battery-cell-chemistry-and-design"
    view = courses.course_view(session, courses.get_course(session, slug))
    main = page(client, f"/courses/{slug}")
    assert main.find("h1").text == view.title
    pairs = facts(main)
    assert pairs["Provider"].text == view.provider.legal_name
    assert pairs["Mode"].text == view.mode.label
    assert pairs["Learning setting"].text == present(view.learning_setting).label
    assert pairs["Workload"].text == f"{view.ects:g} ECTS · {view.workload_hours:g} hours"
    assert present(view.eqf_level).label in pairs["EQF level"].text
    assert present(view.isced_f).label in pairs["Field of education"].text
    assert pairs["Languages"].text == ", ".join(lang.label for lang in view.languages)
    assert pairs["Country / region"].text == f"{view.country.label} · {view.region}"
    price = present(view.price)
    assert pairs["Price"].text == f"{price.currency} {price.amount:,.2f}"
    dates = [t.attrs["datetime"] for t in pairs["Start dates"].find_all("time")]
    assert dates == [d.isoformat() for d in view.start_dates]
    assert pairs["Website"].find("a").attrs["href"] == view.url
    rows = [tr.find_all("td") for tr in main.find_all("tr") if tr.find_all("td")]
    assert [(a.text, b.text) for a, b in rows] == [
        (s.label, s.level.value.capitalize()) for s in view.skills
    ]
    mc_links = [
        a.attrs["href"] for a in main.find_all("a") if "/micro-credentials/" in a.attrs["href"]
    ]
    assert mc_links == [f"/micro-credentials/{m.slug}" for m in view.micro_credentials]
    assert mc_links


def test_skill_page_shows_labels_roles_courses_and_micro_credentials(
    client: Any, session: Session, demo: None
) -> None:
    skill = skills.get_skill(session, SKILL_IRIS["battery design"])
    session.add(
        SkillLabel(
            skill_id=pk(skill),
            language="de",
            preferred_label="Batteriedesign",
            alt_labels="Batterieentwicklung\nBatterieauslegung",
        )
    )
    session.commit()
    main = page(client, f"/skills/{skill.slug}")
    assert main.find("h1").text == skill.preferred_label
    pairs = facts(main)
    assert pairs["ESCO skill"].find("a").attrs["href"] == skill.iri
    german = [td for td in main.find_all("td") if td.attrs.get("lang") == "de"]
    assert [td.text for td in german] == [
        "Batteriedesign",
        "Batterieentwicklung, Batterieauslegung",
    ]
    role_links = {a.attrs["href"] for a in main.find_all("a") if "/job-roles/" in a.attrs["href"]}
    role = skills.get_job_role(session, ROLE)
    assert skill.iri in {s.iri for s in skills.required_skills(session, role)}
    assert f"/job-roles/{ROLE}" in role_links
    teaching = skills.courses_teaching(session, [skill.iri])
    course_links = [a.attrs["href"] for a in main.find_all("a") if "/courses/" in a.attrs["href"]]
    assert course_links == [f"/courses/{c.slug}" for c in teaching] and teaching
    proving = {
        a.attrs["href"] for a in main.find_all("a") if "/micro-credentials/" in a.attrs["href"]
    }
    assert "/micro-credentials/battery-cell-specialist" in proving


def test_organisation_page_lists_its_courses(client: Any, session: Session, demo: None) -> None:
    org = organisations.get_organisation(session, "voltacademy")
    main = page(client, "/organisations/voltacademy")
    assert main.find("h1").text == org.legal_name
    assert facts(main)["Website"].find("a").attrs["href"] == org.homepage
    own = session.exec(
        select(Course.slug).where(Course.organisation_id == org.id).order_by(Course.title)
    ).all()
    links = [a.attrs["href"] for a in main.find_all("a") if "/courses/" in a.attrs["href"]]
    assert links == [f"/courses/{s}" for s in own] and own


# --- search --------------------------------------------------------------------------------------


def _hits(main: Node) -> list[tuple[str, str]]:
    """(kind tag, link) of every result."""
    return [
        (li.find("span", class_="kind").attrs["class"].split()[-1], li.find("a").attrs["href"])
        for li in main.find_all("li", class_="result")
    ]


def _titles(main: Node) -> list[str]:
    return [li.find("h3").text for li in main.find_all("li", class_="result")]


def test_search_ranks_results_with_kind_badges(client: Any, demo: None) -> None:
    main = page(client, "/search?q=battery+management")
    hits = _hits(main)
    assert hits
    kinds = {k for k, _ in hits}
    assert {"kind-skill", "kind-course", "kind-micro_credential"} <= kinds
    prefixes = {
        "kind-skill": "/skills/",
        "kind-job_role": "/job-roles/",
        "kind-course": "/courses/",
        "kind-micro_credential": "/micro-credentials/",
    }
    assert all(href.startswith(prefixes[kind]) for kind, href in hits)
    # Titles weigh more than the rest: the first hit has both words in its title.
    assert {"battery", "management"} <= set(_titles(main)[0].lower().split())
    assert main.find("input", id="q").attrs["value"] == "battery management"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"kind": "course", "eqf_level": "4"},
            {
                "/courses/high-voltage-safety-for-ev-technicians",
                "/courses/ev-battery-pack-assembly-and-testing",
            },
        ),
        (
            {"kind": "micro_credential", "mode": "online"},
            {"/micro-credentials/bms-engineer", "/micro-credentials/e-mobility-project-manager"},
        ),
    ],
)
def test_search_filters(
    client: Any, session: Session, demo: None, filters: dict[str, str], expected: set[str]
) -> None:
    main = page(client, "/search?" + urlencode(filters))
    hrefs = {href for _, href in _hits(main)}
    # The expectation is checked against the catalogue itself, not only pasted.
    model = Course if filters["kind"] == "course" else MicroCredential
    prefix = "/courses/" if model is Course else "/micro-credentials/"
    column = model.eqf_level if "eqf_level" in filters else model.mode
    value = int(filters["eqf_level"]) if "eqf_level" in filters else filters["mode"]
    rows = session.exec(select(model.slug).where(column == value)).all()
    assert hrefs == {prefix + s for s in rows} == expected
    for name, value in filters.items():
        selected = [
            o for o in main.find("select", id=name).find_all("option") if "selected" in o.attrs
        ]
        assert [o.attrs["value"] for o in selected] == [value]


def test_search_filters_by_provider_language_country_and_skill(
    client: Any, session: Session, demo: None
) -> None:
    hrefs = {h for _, h in _hits(page(client, "/search?kind=course&provider=voltacademy"))}
    org = organisations.get_organisation(session, "voltacademy")
    own = session.exec(select(Course.slug).where(Course.organisation_id == org.id)).all()
    assert hrefs == {f"/courses/{s}" for s in own}

    hrefs = {h for _, h in _hits(page(client, "/search?kind=course&language=pt"))}
    portuguese = [c for c in session.exec(select(Course)).all() if "pt" in c.languages]
    assert hrefs == {f"/courses/{c.slug}" for c in portuguese} and portuguese

    hrefs = {h for _, h in _hits(page(client, "/search?kind=course&country=NL"))}
    dutch = session.exec(select(Course.slug).where(Course.country == "NL")).all()
    assert hrefs == {f"/courses/{s}" for s in dutch} and dutch

    skill = skills.get_skill(session, SKILL_IRIS["battery design"])
    main = page(client, "/search?" + urlencode({"skill": skill.iri, "kind": "course"}))
    teaching = {f"/courses/{c.slug}" for c in skills.courses_teaching(session, [skill.iri])}
    assert {h for _, h in _hits(main)} == teaching
    assert skill.preferred_label in main.find("h2", id="results-heading").text


def test_search_pagination_and_empty_state(client: Any, demo: None) -> None:
    first = page(client, "/search?kind=skill")
    total = int(first.find("h2", id="results-heading").text.split()[0])
    assert total > 20
    pager = first.find("nav", class_="pager")
    next_link = pager.find("a", rel="next")
    assert "page=2" in next_link.attrs["href"] and "kind=skill" in next_link.attrs["href"]
    second = page(client, "/search" + next_link.attrs["href"])
    assert second.find("nav", class_="pager").find("a", rel="prev")
    first_hits, second_hits = _hits(first), _hits(second)
    assert len(first_hits) == 20 and not set(first_hits) & set(second_hits)

    beyond = page(client, "/search?kind=skill&page=99")
    assert _hits(beyond) == []
    assert beyond.find("div", class_="empty").find("a").attrs["href"] == "?kind=skill"

    empty = page(client, "/search?q=zzyzxqq")
    assert _hits(empty) == []
    assert "Nothing matches" in empty.find("div", class_="empty").text


@pytest.mark.parametrize(
    "query", ["eqf_level=9", "provider=nobody-here", "skill=no-such-skill", "mode=levitation"]
)
def test_search_bad_filter_shows_the_form_with_the_error(
    client: Any, demo: None, query: str
) -> None:
    response = client.get(f"/search?{query}", headers=HTML)
    assert response.status_code == 422
    main = parse(response.text)
    assert main.find("div", id="search-error").text
    assert main.find("form", role="search")


# --- skills gap ----------------------------------------------------------------------------------


def test_gap_form_lists_job_roles_then_the_role_skills(
    client: Any, session: Session, demo: None
) -> None:
    main = page(client, "/gap")
    options = [o.attrs["value"] for o in main.find("select", id="job_role").find_all("option")]
    roles = skills.list_job_roles(session, per_page=100).items
    assert options == ["", *(r.slug for r in roles)]
    assert main.find_all("input", type="checkbox") == []

    role = skills.get_job_role(session, ROLE)
    main = page(client, f"/gap?job_role={ROLE}")
    boxes = [b.attrs["value"] for b in main.find_all("input", type="checkbox")]
    assert boxes == [s.iri for s in skills.required_skills(session, role)]
    for box in main.find_all("input", type="checkbox"):
        assert main.find("label", for_=box.attrs["id"]).text  # every box has its label
    assert main.find_all("section", id="result") == []


def test_gap_result_lists_missing_skills_and_the_training_path(
    client: Any, session: Session, demo: None
) -> None:
    have = [SKILL_IRIS["battery chemistry"], SKILL_IRIS["analyse test data"]]
    pasted = SKILL_IRIS["embedded systems"]
    query = urlencode(
        [("job_role", ROLE), *(("have", i) for i in have), ("iris", pasted), ("show", "1")]
    )
    main = page(client, f"/gap?{query}")
    expected = gap.gap(session, ROLE, [*have, pasted])
    result = main.find("section", id="result")
    summary = result.find("p", class_="gap-summary").text
    assert f"You have {len(expected.have)} of the {expected.required} skills" in summary

    rows = [
        tr
        for tr in result.find("table", id="missing").find_all("tr")
        if "data-essential" in tr.attrs
    ]
    assert [(r.find("a").text, r.attrs["data-essential"]) for r in rows] == [
        (m.label, "yes" if m.essential else "no") for m in expected.missing
    ]
    flags = [r.attrs["data-essential"] for r in rows]
    assert flags == sorted(flags, reverse=True)
    assert not {m.iri for m in expected.missing} & {*have, pasted}

    steps = result.find("ol", class_="path").find_all("li", class_="step")
    assert [s.find("h4").text for s in steps] == [p.course.title for p in expected.path]
    for step, path_step in zip(steps, expected.path, strict=True):
        share = round(path_step.closes_share * 100)
        assert f"Closes {len(path_step.closes)} of {len(expected.missing)}" in step.text
        assert f"({share} %)" in step.text
        closed = [a.text for a in step.find("ul", class_="skills").find_all("a")]
        assert closed == [s.label for s in path_step.closes]
    totals = {
        div.find("dt").text: div.find("dd").text
        for div in result.find_all("div")
        if div.parent and div.parent.tag == "dl"
    }
    hours = sum(p.course.workload_hours or 0 for p in expected.path)
    ects = sum(p.course.ects or 0 for p in expected.path)
    assert totals["Workload"].startswith(f"{hours:g} hours")
    assert totals["Credits"] == f"{ects:g} ECTS"
    assert totals["Courses"] == str(len(expected.path))
    if expected.uncovered:
        uncovered = [a.text for a in result.find("div", id="uncovered").find_all("a")]
        assert uncovered == [u.label for u in expected.uncovered]
    # The ticked and pasted skills stay ticked and pasted in the form.
    checked = {
        b.attrs["value"] for b in main.find_all("input", type="checkbox") if "checked" in b.attrs
    }
    assert checked == {*have, pasted}
    assert main.find("textarea", id="iris").text == pasted


def test_gap_with_every_skill_has_nothing_missing(
    client: Any, session: Session, demo: None
) -> None:
    role = skills.get_job_role(session, ROLE)
    every = [("have", s.iri) for s in skills.required_skills(session, role)]
    main = page(client, "/gap?" + urlencode([("job_role", ROLE), *every, ("show", "1")]))
    result = main.find("section", id="result")
    assert "You have every skill this role needs" in result.text
    assert result.find_all("table") == []


def test_gap_unknown_role_keeps_the_form(client: Any, demo: None) -> None:
    response = client.get("/gap?job_role=astronaut&show=1", headers=HTML)
    assert response.status_code == 404
    main = parse(response.text)
    assert "astronaut" in main.find("div", id="gap-error").text
    assert main.find("select", id="job_role")


# --- not found -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/job-roles/astronaut",
        "/courses/no-such-course",
        "/micro-credentials/no-such-badge",
        "/skills/no-such-skill",
        "/organisations/no-such-provider",
        "/no/such/page",
    ],
)
def test_unknown_pages_are_friendly_404s_for_browsers_and_json_for_clients(
    client: Any, demo: None, url: str
) -> None:
    browser = client.get(url, headers=HTML)
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    main = parse(browser.text)
    assert main.find("h1").text == "Page not found"
    assert main.find("div", role="alert").text
    assert main.find("form", role="search").attrs["action"] == "/search"

    api = client.get(url, headers={"accept": "application/json"})
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


def test_api_errors_stay_json(client: Any, demo: None) -> None:
    response = client.get("/api/v1/courses/no-such-course")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "course 'no-such-course' does not exist"
    invalid = client.get("/api/v1/search?eqf_level=9", headers={"accept": "application/json"})
    assert invalid.status_code == 422 and invalid.headers["content-type"] == "application/json"


def test_gap_recognises_a_held_skill_given_by_slug(
    client: Any, session: Session, demo: None
) -> None:
    # Regression: the page recomputed "unknown" from IRIs only, so a skill pasted by its slug
    # counted both as held and as "not among this role's skills".
    role = skills.get_job_role(session, ROLE)
    held = skills.required_skills(session, role)[0]
    expected = gap.gap(session, ROLE, [held.slug, "no-such-skill"])
    assert [h.iri for h in expected.have] == [held.iri]
    assert expected.unknown == ["no-such-skill"]

    main = page(client, "/gap?" + urlencode({"job_role": ROLE, "iris": held.slug, "show": "1"}))
    result = main.find("section", id="result")
    assert f"You have 1 of the {expected.required} skills" in result.text
    assert "not among this role" not in result.text
