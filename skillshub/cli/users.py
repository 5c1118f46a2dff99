"""`skillshub user …`: console users (the staff of a provider organisation)."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from accounts import audit, operators, password_links
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


class UserRole(StrEnum):
    """A role in an organisation, or the hub's operator role (no organisation)."""

    owner = "owner"
    issuer = "issuer"
    viewer = "viewer"
    operator = "operator"


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option("--email", help="The user's e-mail address")],
    role: Annotated[
        UserRole, typer.Option("--role", help="owner, issuer or viewer (with --org), or operator")
    ],
    org: Annotated[
        str | None, typer.Option("--org", help="Organisation slug (not for operators)")
    ] = None,
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
    """Create a console user with a role in an organisation (an existing user gets the role),
    or a hub operator (--role operator, without --org).

    Without --password-stdin, prints a one-time link where the user sets a password."""
    if role == UserRole.operator and org is not None:
        raise fail("--role operator is a role of the hub, not of an organisation: drop --org")
    if role != UserRole.operator and org is None:
        raise fail(f"--role {role} needs --org (the organisation's slug)")
    password = _read_password() if password_stdin else None
    settings = load_settings()
    with database(settings) as session:
        organisation = organisation_by_slug(session, org) if org is not None else None
        user = find_user(session, email)
        created = user is None
        if user is None:
            user = create_user(session, email, password=password, name=name)
        elif password is not None:
            raise Conflict(
                "This user exists already and keeps their password; "
                "run the command without --password-stdin to add the role only."
            )
        command = audit.command_line(
            ["user", "create"]
            + (["--org", org] if org is not None else [])
            + ["--email", email, "--role", str(role)]
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
        if organisation is None:
            if not operators.make_operator(session, user, actor=actor, command=command):
                raise Conflict(f"{user.email} is a hub operator already.")
        else:
            add_member(session, user, organisation, Role(role.value))
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
    where = f"{role} of {organisation.slug}" if organisation is not None else "hub operator"
    out.print(f"{what} {user.email}: {where}", highlight=False, markup=False)
    if link:
        hours = settings.console_password_link_hours
        err.print(f"One-time link to set the password (works once, for {hours} hours):")
        sys.stdout.write(link + "\n")


@user_app.command("disable-2fa")
def user_disable_2fa(
    email: Annotated[str, typer.Option("--email", help="The user's e-mail address")],
) -> None:
    """Turn off a user's authenticator app (second factor), e.g. after a lost phone: they
    sign in with their password alone and can set up a new app. Ends their sessions."""
    from accounts import second_factor, sessions

    with database() as session:
        user = find_user(session, email)
        if user is None:
            raise fail(f"there is no console user {email}")
        if user.totp_secret is None:
            raise fail(f"{user.email} has no authenticator app set up")
        second_factor.disable(session, user)
        ended = sessions.revoke_all_sessions(session, user)
        audit.record_for_user(
            session,
            user,
            action="user.second_factor_off",
            details={"by": "operator", "sessions_ended": ended},
            command=audit.command_line(["user", "disable-2fa", "--email", email]),
        )
    out.print(
        f"authenticator app turned off for {user.email}; {ended} session(s) ended",
        highlight=False,
        markup=False,
    )
