"""The report in plain words: the one sentence an employer reads first.

`headline(report)` picks what matters most (an impersonation before a revocation before an
expiry …) and returns English message templates with their values. The pages translate the
templates (they are in the German catalogue; `N_` marks them for extraction) and format the
dates in the reader's form; the CLI prints them in English. Nothing technical goes in: no
DIDs, no list indexes, no ISO timestamps (dates are formatted by whoever shows them).

Placeholders: %(issuer)s the vouched legal name (or the name the badge gives), %(list)s a
trust list, %(who)s the recipient, %(when)s the issue date, %(until)s the end of validity,
%(since)s a revocation's date, %(reason)s its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from badges.report import Check, Status, Verdict, VerificationReport
from badges.verifying.status import revocation_state


def N_(message: str) -> str:  # gettext's marker: "translate this where it is shown"
    return message


@dataclass(frozen=True)
class Headline:
    kind: str  # which case (the pages style and test by it)
    tone: str  # ok | warn | bad
    title: str  # message template: the verdict in a few words
    sentence: str  # message template: the plain sentence
    values: dict[str, str | None] = field(default_factory=dict)
    # Further sentences, each a template, shown after the first.
    notes: list[str] = field(default_factory=list)


_VALID_TITLE = N_("Valid")


def _issued(report: VerificationReport) -> dict[str, str | None]:
    summary = report.summary
    trust = summary.issuer_trust
    vouched = trust.legal_name if trust and trust.standing in ("registered", "listed") else None
    return {
        "issuer": vouched or (trust.claimed_name if trust else None) or summary.issuer_name,
        "list": trust.source if trust else None,
        "who": summary.recipient.name or summary.recipient.email,
        "when": summary.valid_from,
        "until": summary.valid_until,
        "since": summary.state.since if summary.state else None,
        "reason": summary.state.reason if summary.state else None,
    }


def _state_of(report: VerificationReport) -> str:
    status = report.check("status")
    if status is not None and status.status is Status.OK:
        return "not_revoked"
    return "no_status"


def _valid(report: VerificationReport, values: dict[str, str | None]) -> Headline:
    trust = report.summary.issuer_trust
    standing = trust.standing if trust else "unknown"
    notes = []
    if _state_of(report) == "not_revoked":
        notes.append(N_("It has not been revoked."))
    notes.append(
        N_("It is valid until %(until)s.") if values["until"] else N_("It does not expire.")
    )
    if standing == "registered":
        sentence = N_("Issued by %(issuer)s, a registered provider, to %(who)s on %(when)s.")
        if not values["who"]:
            sentence = N_("Issued by %(issuer)s, a registered provider, on %(when)s.")
        return Headline("valid-registered", "ok", _VALID_TITLE, sentence, values, notes)
    if standing == "listed":
        sentence = N_("Issued by %(issuer)s, listed in the trust list %(list)s, on %(when)s.")
        return Headline("valid-listed", "ok", _VALID_TITLE, sentence, values, notes)
    sentence = N_(
        "The name “%(issuer)s” is what the issuer says about itself: it is not a registered "
        "provider, and no trust list we use names it, so we cannot vouch for who it is."
    )
    if not values["issuer"]:
        sentence = N_(
            "The issuer gives no name, is not a registered provider, and no trust list we use "
            "names it, so we cannot vouch for who it is."
        )
    notes.insert(0, N_("It is genuine: nobody has changed it since it was signed on %(when)s."))
    return Headline(
        "valid-unknown",
        "warn",
        N_("Authentic, but the issuer is not known to us"),
        sentence,
        values,
        notes,
    )


def _first_error(report: VerificationReport, check_id: str) -> Check | None:
    check = report.check(check_id)
    return check if check is not None and check.status is Status.ERROR else None


def _invalid(report: VerificationReport, values: dict[str, str | None]) -> Headline:
    not_valid = N_("Not valid")
    trust = report.summary.issuer_trust
    if _first_error(report, "issuer_trust") and trust is not None:
        values = {**values, "issuer": trust.legal_name or values["issuer"]}
        sentence = N_(
            "This badge pretends to come from %(issuer)s, a registered provider, but it was "
            "not issued by them: do not rely on it."
        )
        if not trust.legal_name:
            sentence = N_(
                "This badge uses an address of this hub that does not belong to its issuer: "
                "do not rely on it."
            )
        return Headline("impersonation", "bad", not_valid, sentence, values)
    state = revocation_state(report.check("status"))
    if state is not None:
        revoked = state[0] == "revoked"
        if values["since"]:
            sentence = (
                N_("This badge was revoked by its issuer on %(since)s.")
                if revoked
                else N_("This badge was suspended by its issuer on %(since)s.")
            )
        else:
            sentence = (
                N_("This badge was revoked by its issuer.")
                if revoked
                else N_("This badge is suspended by its issuer.")
            )
        notes = [N_("Reason given: %(reason)s.")] if values["reason"] else []
        kind = "revoked" if revoked else "suspended"
        return Headline(kind, "bad", not_valid, sentence, values, notes)
    if _first_error(report, "valid_until") and values["until"]:
        return Headline("expired", "bad", not_valid, N_("This badge expired on %(until)s."), values)
    if _first_error(report, "valid_from") and values["when"]:
        return Headline(
            "not-yet-valid", "bad", not_valid, N_("This badge is valid only from %(when)s."), values
        )
    if _first_error(report, "recipient"):
        return Headline(
            "other-recipient",
            "bad",
            not_valid,
            N_("The e-mail address you gave is not the one this badge was awarded to."),
            values,
        )
    return Headline(
        "broken",
        "bad",
        not_valid,
        N_(
            "This badge does not pass the checks: it was changed after it was issued, or it "
            "was not signed by the issuer it names. Do not rely on it."
        ),
        values,
    )


def _indeterminate(report: VerificationReport, values: dict[str, str | None]) -> Headline:
    title = N_("Could not be fully checked")
    unresolved = {check.id for check in report.unresolved}
    if "budget" in unresolved:
        sentence = N_("The check took too long and was stopped. Please try again later.")
    elif unresolved & {"proof", "issuer_key"}:
        sentence = N_(
            "The issuer's key could not be obtained, so we cannot tell whether the badge is "
            "genuine. Please try again later."
        )
    elif "status" in unresolved:
        sentence = N_(
            "The badge is genuine, but whether it was revoked could not be checked right now. "
            "Please try again later."
        )
    else:
        sentence = N_("A part of the check could not be completed (see the technical details).")
    return Headline("indeterminate", "warn", title, sentence, values)


def headline(report: VerificationReport) -> Headline:
    values = _issued(report)
    if report.verdict is Verdict.VALID:
        return _valid(report, values)
    if report.verdict is Verdict.INVALID:
        return _invalid(report, values)
    return _indeterminate(report, values)


def english(template: str, values: dict[str, str | None], dates: dict[str, str]) -> str:
    """A template filled in for the CLI: `dates` replaces the ISO dates by readable ones."""
    filled = {k: dates.get(k) or (v if v is not None else "") for k, v in values.items()}
    return template % filled
