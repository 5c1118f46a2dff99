"""`skillshub user …`: console users (the staff of a provider organisation)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from accounts import audit, password_links
from accounts.audit import Actor
from accounts.roles import Role
from accounts.users import add_member, create_user, find_user, organisation_by_slug
from catalogue.errors import Conflict
from skillshub.cli.common import app, database, err, fail, load_settings, out

user_app = typer.Typer(help="Console users and their roles.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _read_password() -> str:
    """The first line of standard input, without its line break (a piped `echo` adds one)."""
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise fail("--password-stdin: no password on standard input")
    return password


@user_app.command("create")
def user_create(
    org: Annotated[str, typer.Option("--org", help="Organisation slug")],
    email: Annotated[str, typer.Option("--email", help="The user's e-mail address")],
    role: Annotated[Role, typer.Option("--role", help="owner, issuer or viewer")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from standard input (else: print a one-time link to set it)",
        ),
    ] = False,
    name: Annotated[
        str | None, typer.Option(help="The user's name, as shown to colleagues")
    ] = None,
) -> None:
    """Create a console user with a role in an organisation (an existing user gets the role).

    Without --password-stdin, prints a one-time link where the user sets a password."""
    password = _read_password() if password_stdin else None
    settings = load_settings()
    with database(settings) as session:
        organisation = organisation_by_slug(session, org)
        user = find_user(session, email)
        created = user is None
        if user is None:
            user = create_user(session, email, password=password, name=name)
        elif password is not None:
            raise Conflict(
                "This user exists already and keeps their password; "
                "run the command without --password-stdin to add the role only."
            )
        add_member(session, user, organisation, role)
        command = audit.command_line(
            ["user", "create", "--org", org, "--email", email, "--role", str(role)]
            + (["--password-stdin"] if password_stdin else [])
        )
        actor = Actor.cli()
        if created:
            audit.record(
                session,
                actor=actor,
                action="user.create",
                organisation=organisation,
                subject_type="user",
                subject_id=user.id,
                command=command,
            )
        audit.record(
            session,
            actor=actor,
            action="member.add",
            organisation=organisation,
            subject_type="user",
            subject_id=user.id,
            details={"role": str(role)},
            command=command,
        )
        link = None
        if user.password_hash is None:
            token = password_links.issue_link(session, user, ttl=settings.console_password_link_ttl)
            link = password_links.link_url(settings.base_url, token)
    what = "created user" if created else "existing user"
    out.print(f"{what} {user.email}: {role} of {organisation.slug}", highlight=False, markup=False)
    if link:
        hours = settings.console_password_link_hours
        err.print(f"One-time link to set the password (works once, for {hours} hours):")
        sys.stdout.write(link + "\n")
