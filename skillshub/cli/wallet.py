"""`skillshub offer`: a credential offer (OpenID4VCI 1.0) for the learner's wallet."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from badges import issuing
from badges.wallet import offers
from skillshub.cli.common import CREDENTIAL_HELP, app, database, err, fail, load_settings


class Language(StrEnum):
    """The languages the transaction code e-mail has words in (offers.TX_CODE_WORDS)."""

    en = "en"
    de = "de"


@app.command()
def offer(
    credential_id: Annotated[str, typer.Argument(help=CREDENTIAL_HELP)],
    tx_code: Annotated[
        bool,
        typer.Option("--tx-code", help="e-mail the learner a 6-digit code the wallet must send"),
    ] = False,
    language: Annotated[
        Language,
        typer.Option("--language", help="the language of the transaction code e-mail: en or de"),
    ] = Language.en,
) -> None:
    """Print a credential offer URI (`openid-credential-offer://…`) for the learner's wallet.

    The offer is by reference, works once, and expires after SKILLSHUB_WALLET_OFFER_MINUTES.
    Show it as a QR code or send it to the learner; with --tx-code the wallet also needs the
    code this command e-mails to the learner, in English or (--language de) German."""
    settings = load_settings()
    with database(settings) as session:
        uuid = issuing.credential_uuid_of(session, credential_id, settings.base_url)
        record = issuing.get_credential(session, uuid)
        made = offers.create_offer(
            session,
            record,
            base_url=settings.base_url,
            ttl=settings.wallet_offer_ttl,
            tx_code=tx_code,
            created_by="cli",
        )
        session.commit()
        error = offers.send_tx_code(
            settings, settings.smtp_from, record, made, language=language.value
        )
    if error is not None:
        raise fail(f"the offer was made but the transaction code was not e-mailed: {error}")
    typer.echo(made.link)
    until = f"{made.expires_at:%Y-%m-%d %H:%M} UTC"
    sent = "; the transaction code was e-mailed to the learner" if made.tx_code else ""
    err.print(f"offer for credential {record.uuid}, usable once until {until}{sent}")
