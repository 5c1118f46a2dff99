"""Staff accounts for the provider console: users, memberships and roles, sessions, one-time
password links, the audit log and the dashboard's figures. Services over a Session that raise
domain errors; the web layer (skillshub/web/console) and the CLI call them.

Layering: above `catalogue`, `keys` and `badges` (the dashboard reads their tables); none of
them imports `accounts`. A console action that changes another package's data is a function
that checks the role here (`require_role`), calls that package's service and records the
audit event (`audit.record`) in the same session."""

from accounts.models import AuditEvent, ConsoleSession, Membership, PasswordToken, User
from accounts.roles import NotAMember, Role, RoleTooLow
from accounts.sessions import SignInRequired
from accounts.users import (
    SignInFailed,
    add_member,
    authenticate,
    create_user,
    memberships,
    require_role,
    role_in,
)

__all__ = [
    "AuditEvent",
    "ConsoleSession",
    "Membership",
    "NotAMember",
    "PasswordToken",
    "Role",
    "RoleTooLow",
    "SignInFailed",
    "SignInRequired",
    "User",
    "add_member",
    "authenticate",
    "create_user",
    "memberships",
    "require_role",
    "role_in",
]
