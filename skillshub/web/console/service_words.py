"""The services' words the console shows, in the reader's language.

The services below the web layer (accounts, badges, catalogue) stay language-neutral: they
word their states, labels and refusals in English, for the API, the CLI and the logs alike.
The console's pages show them through the `said` filter (skillshub.web.i18n.translate): a
text listed here (marked with `N_`, so that it is in the German catalogue) is translated as
it is; a text matching one of the patterns is translated with its values; anything else is
shown as the service worded it (rare refusals, a library's own words).
"""

from __future__ import annotations

from skillshub.web.i18n import N_, known_message

# States, kinds and levels the pages show (badges.recipients.STATES, catalogue states,
# submission states, skill levels, what a review is about).
WORDS = [
    N_("Issued"),
    N_("E-mailed"),
    N_("E-mail failed"),
    N_("Claimed"),
    N_("Public"),
    N_("Revoked"),
    N_("Suspended"),
    N_("Expired"),
    N_("draft"),
    N_("published"),
    N_("submitted"),
    N_("changes requested"),
    N_("approved"),
    N_("withdrawn"),
    N_("micro-credential"),
    N_("course"),
    N_("job-role"),
    N_("awareness"),
    N_("practitioner"),
    N_("expert"),
    # A badge's history (badges.recipients.history).
    N_("Claim e-mail failed"),
    N_("Claim link e-mailed"),
    N_("Claimed by the learner"),
    N_("Suspension lifted"),
    # The columns of a class list (badges.issuing.columns.TARGETS) and its rows' problems.
    N_("Full name"),
    N_("First name"),
    N_("Last name"),
    N_("E-mail address"),
    N_("Grade"),
    N_("Evidence (a web address)"),
    N_("Evidence (in words)"),
    N_("Your reference (kept as the external id)"),
    N_("Learner's DID"),
    N_("E-mail shown in Europass (the learner agreed: yes/no)"),
    N_("E-mail address missing"),
    N_("Name missing"),
    N_("Name"),
    N_("E-mail in Europass"),
    N_("Choose the column with the e-mail addresses."),
    N_("Choose the column with the names, or the columns with first and last names."),
    N_("Each column can be chosen once only."),
    N_("Choose one of the file's columns"),
    N_("Choose a file: a spreadsheet (.xlsx) or a CSV file."),
    N_("The file is empty."),
    N_("No row of this file can be issued: correct the rows listed and upload it again."),
    N_("This workbook has no visible worksheet."),
    N_("answer yes or no (or leave it empty for no)"),
    N_("must be an absolute http(s) URL"),
    N_("Must be an absolute http(s) URL"),
    N_("The recipient's name is required (the full name, or given and family names)"),
    # Sign-in, passwords, the authenticator app, invitations, members, tokens (accounts).
    N_("E-mail or password is wrong"),
    N_("Please sign in to continue."),
    N_("Sign in again."),
    N_("This sign-in was finished already. Sign in again."),
    N_("The sign-in step after the password is missing, expired or spent: sign in again."),
    N_("This link was used already."),
    N_("No authenticator app is set up for this account."),
    N_("An authenticator app is set up already."),
    N_("An authenticator app is set up already. Turn it off first to set up another one."),
    N_("Start the set-up first: the page shows a QR code to scan."),
    N_("This code was used already. Wait for the next code from your app."),
    N_(
        "This code is not right. Type the code your authenticator app shows now "
        "(the phone's clock must be right)."
    ),
    N_("A user with this e-mail address exists already."),
    N_("This person is not a member of the organisation."),
    N_("You are not a member of this organisation."),
    N_("Choose owner, issuer or viewer."),
    N_("There is no such invitation."),
    N_("There is no such session."),
    N_("This invitation was accepted already."),
    N_("Give the token a name that says where it is used (e.g. “LMS export”)."),
    N_("The name holds characters that cannot be shown; use letters, digits and spaces."),
    N_("Choose the .p12 or .pfx file to upload."),
    N_("Give a date as YYYY-MM-DD, e.g. 2026-03-31."),
    N_("The start date is after the end date."),
    N_("This page link is damaged; start again from the newest events."),
    N_("This badge is revoked, so no claim link is sent: a revoked badge cannot be claimed."),
    N_("This submission is another organisation's."),
    N_("You belong to the organisation that submitted this: another operator decides on it."),
    # The e-mail address checker's most common answers (email_validator, via the services).
    N_("An email address must have an @-sign."),
    N_("There must be something before the @-sign."),
    N_("There must be something after the @-sign."),
    N_("There can't be anything after the email address."),
    N_("An email address cannot have two periods in a row."),
    N_("An email address cannot have a period and a hyphen next to each other."),
    N_("The email address contains an invalid character."),
    N_("The email address contains invalid characters before the @-sign."),
    N_("The email address is not valid ASCII."),
    N_("The part after the @-sign is not valid. It should have a period."),
    N_("The part after the @-sign is not valid. It is not within a valid top-level domain."),
    N_(
        "The part after the @-sign is a special-use or reserved name that cannot be used "
        "with email."
    ),
]

# Texts with values: (the service's English as a pattern, the page's message).
PATTERNS = [
    (
        r"(?P<label>E-mail address|Name|First name|Last name|Grade|E-mail in Europass): "
        r"(?P<problem>.+)",
        N_("%(label)s: %(problem)s"),
    ),
    (r"[Aa]t most (?P<count>\d+) characters\.?", N_("At most %(count)s characters.")),
    (r"(?P<field>[a-z_]+): at most (?P<count>\d+) characters", N_("At most %(count)s characters.")),
    (
        r"The password must have at least (?P<count>\d+) characters\.",
        N_("The password must have at least %(count)s characters."),
    ),
    (
        r"The password must have at most (?P<count>\d+) characters\.",
        N_("The password must have at most %(count)s characters."),
    ),
    (
        r"The name is too long: at most (?P<count>\d+) characters\.",
        N_("The name is too long: at most %(count)s characters."),
    ),
    (
        r"Enter the (?P<digits>\d+)-digit code your authenticator app shows\.",
        N_("Enter the %(digits)s-digit code your authenticator app shows."),
    ),
    (
        r"The expiry is a number of days from 1 to (?P<days>\d+), or never\.",
        N_("The expiry is a number of days from 1 to %(days)s, or never."),
    ),
    (
        r"(?P<kind>comma|semicolon|tab)-separated text, (?P<encoding>.+)",
        N_("%(kind)s-separated text, %(encoding)s"),
    ),
    (r"Excel workbook, sheet '(?P<sheet>.+)'", N_("Excel workbook, sheet “%(sheet)s”")),
    (r"other sheets left alone: (?P<sheets>.+)", N_("other sheets left alone: %(sheets)s")),
    (
        r"(?P<count>\d+) formula cell\(s\): the values saved with them were used; formulas "
        r"are never calculated here",
        N_(
            "%(count)s formula cell(s): the values saved with them were used; formulas are "
            "never calculated here"
        ),
    ),
    (r"in bulk job (?P<job>\S+)", N_("in bulk job %(job)s")),
    (r"unknown skill\(s\): (?P<skills>.+)", N_("unknown skill(s): %(skills)s")),
    (
        r"This is not an e-mail address: (?P<reason>.+)",
        N_("This is not an e-mail address: %(reason)s"),
    ),
]
PATTERNS += [
    (
        r"The email address contains invalid characters before the @-sign: (?P<chars>.+)\.",
        N_("The email address contains invalid characters before the @-sign: %(chars)s."),
    ),
    (
        r"The part after the @-sign contains invalid characters: (?P<chars>.+)\.",
        N_("The part after the @-sign contains invalid characters: %(chars)s."),
    ),
]
WORDS += [N_("comma"), N_("semicolon"), N_("tab")]

# A catalogue form's field problems (catalogue/checks.py, shown next to each field and in the
# error summary after the field's label).
WORDS += [
    N_("is required"),
    N_("is required (1 to 8)"),
    N_("must be a number"),
    N_("must be a whole number"),
    N_("must be a positive number"),
    N_("must be longer than zero"),
    N_("at least one learning outcome is required"),
]
PATTERNS += [
    (
        r"must be at most (?P<count>\d+) characters",
        N_("must be at most %(count)s characters"),
    ),
    (r"must be at most (?P<most>[\d.]+)", N_("must be at most %(most)s")),
    (r"must not be negative \(got (?P<value>.+)\)", N_("must not be negative (got %(value)s)")),
    (
        r"must be an EQF level from 1 to 8 \(got (?P<value>.+)\)",
        N_("must be an EQF level from 1 to 8 (got %(value)s)"),
    ),
]

# The catalogue forms' rarer problems (catalogue/checks.py, micro_credentials.py, courses.py,
# vocabularies.py) and the hub's new-organisation form's (catalogue/organisations.py): a
# duration, an address (slug), a price, a country code, a stackable credential. A value is
# shown as the service quoted it.
WORDS += [
    N_("must be an absolute URI, e.g. https://… or urn:…"),
    N_("amount must not be negative"),
    N_("currency must be an ISO 4217 code such as EUR"),
    N_("give the notional workload in ECTS and/or hours"),
    N_("a skill is listed twice"),
    N_("would make a loop of stackable credentials"),
    N_("legal name is required"),
    # The titles of the vocabularies a refused value names ("… of 'Type of assessment' …").
    N_("ISCED-F 2013 field of education and training"),
    N_("Learning setting"),
    N_("Type of assessment"),
    N_("Type of quality assurance"),
    N_("Supervision and identity verification"),
]
_VALUE = r"(?P<q>['\"])(?P<value>.*)(?P=q)"
PATTERNS += [
    (
        rf"{_VALUE} is not an ISO 8601 duration: write e\.g\. P6M \(six months\), P1Y, P90D or "
        r"PT40H",
        N_(
            "“%(value)s” is not an ISO 8601 duration: write e.g. P6M (six months), P1Y, P90D "
            "or PT40H"
        ),
    ),
    (
        rf"slug {_VALUE} must be lower-case letters, digits and hyphens",
        N_("The address (slug) “%(value)s” may hold only lower-case letters, digits and hyphens."),
    ),
    (
        rf"{_VALUE} must be lower-case letters, digits and hyphens",
        N_("“%(value)s” must be lower-case letters, digits and hyphens"),
    ),
    (
        rf"slug {_VALUE} is already used by another micro credential",
        N_("the address “%(value)s” is already used by another micro-credential"),
    ),
    (
        rf"slug {_VALUE} is already used by another course",
        N_("the address “%(value)s” is already used by another course"),
    ),
    (
        rf"slug {_VALUE} is already used by another job role",
        N_("the address “%(value)s” is already used by another job role"),
    ),
    (
        rf"an organisation with slug {_VALUE} already exists",
        N_("An organisation with the address (slug) “%(value)s” exists already."),
    ),
    (
        rf"country {_VALUE} must be an ISO 3166-1 alpha-2 code, e\.g\. DE",
        N_("The country “%(value)s” must be an ISO 3166-1 alpha-2 code, e.g. DE."),
    ),
    (r"amount must be at most (?P<most>\d+)", N_("amount must be at most %(most)s")),
    (
        rf"{_VALUE} is not an Open Badges 3\.0 achievement type \(e\.g\. MicroCredential, Course\)",
        N_("“%(value)s” is not an Open Badges 3.0 achievement type (e.g. MicroCredential, Course)"),
    ),
    (r"unknown skill IRI\(s\): (?P<skills>.+)", N_("unknown skill IRI(s): %(skills)s")),
    (
        rf"micro-credential {_VALUE} is another provider's: only your own micro-credentials can "
        r"be named here",
        N_(
            "micro-credential “%(value)s” is another provider's: only your own "
            "micro-credentials can be named here"
        ),
    ),
]

# Text a field may not hold (catalogue/text.py), alone next to a catalogue form's field or after
# the field's name (the hub's organisation form); and a change the database refused (a slug
# taken, or an entry still in use, at the same moment: catalogue/checks.py).
_CODE = r"(?P<code>U\+[0-9A-F]{4,6})"
PATTERNS += [
    (rf"holds a control character \({_CODE}\)", N_("holds a control character (%(code)s)")),
    (
        rf"holds a lone surrogate \({_CODE}\), which is not Unicode text",
        N_("holds a lone surrogate (%(code)s), which is not Unicode text"),
    ),
    (
        rf"must be a single line \(it holds a line break, {_CODE}\)",
        N_("must be a single line (it holds a line break, %(code)s)"),
    ),
    (
        r"(?P<field>[a-z_]+): (?P<problem>(?:holds|must be a single line) .+)",
        N_("%(field)s: %(problem)s"),
    ),
    (
        rf"deleting (?P<kind>micro-credential|course) {_VALUE}: the database refused it \(taken "
        r"or still in use\)",
        N_("deleting %(kind)s “%(value)s”: the database refused it (taken or still in use)"),
    ),
    (
        rf"(?P<kind>micro-credential|course) {_VALUE}: the database refused it \(taken or "
        r"still in use\)",
        N_("%(kind)s “%(value)s”: the database refused it (taken or still in use)"),
    ),
]

# The e-seal import's refusals (keys/eseal.py, accounts/identity.py import_seal), next to the
# seal page's fields; a day the certificate names is written in the reader's form.
WORDS += [
    N_("cannot open the PKCS#12 file: wrong password"),
    N_("cannot open the PKCS#12 file: wrong password (none given)"),
    N_("cannot open the file: it is not a PKCS#12 file (.p12 or .pfx)"),
    N_("the PKCS#12 file holds a certificate without its private key; export it with the key"),
    N_("the PKCS#12 file holds a key but no certificate"),
    N_("e-seal keys must be RSA (2048 bits or more) or EC P-256"),
    N_("the private key does not match the certificate"),
    N_(
        "the certificate has no organisationIdentifier (2.5.4.97) and the organisation no "
        "registration id: the credential's issuer could not be identified"
    ),
]
PATTERNS += [
    (
        r"the e-seal certificate expired on (?P<date>\d{4}-\d{2}-\d{2}); import a current one",
        N_("the e-seal certificate expired on %(date)s; import a current one"),
    ),
    (
        r"the e-seal certificate is not valid before (?P<date>\d{4}-\d{2}-\d{2})",
        N_("the e-seal certificate is not valid before %(date)s"),
    ),
    (
        r"this certificate is already imported for '(?P<org>[^']*)'",
        N_("this certificate is already imported for “%(org)s”"),
    ),
    (
        r"This file is too large for an e-seal certificate \(at most (?P<count>\d+) KiB\)\.",
        N_("This file is too large for an e-seal certificate (at most %(count)s KiB)."),
    ),
]


# A comment over its limit: an endorsement's (badges/endorsing.py), a review message's and a
# provider's note (catalogue/review.py).
WORDS += [
    N_("say why you endorse it (the comment)"),
    N_("write a comment: what should the provider change?"),
]
PATTERNS += [
    (
        r"the (?P<what>comment|note) is too long \((?P<count>\d+) characters; at most "
        r"(?P<limit>\d+)\)",
        N_("the text is too long (%(count)s characters; at most %(limit)s)"),
    ),
]

for _pattern, _message in PATTERNS:
    known_message(_pattern, _message)
