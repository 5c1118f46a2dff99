"""Wallet delivery tables (OpenID4VCI): offers with their pre-authorized code and access token,
the nonces key proofs must carry, and a record of every copy a wallet received.

Every secret (pre-authorized code, transaction code, access token, nonce) is stored as its
SHA-256 only; a copy's record names the holder's DID, never the signed text.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from catalogue.base import timestamp


class WalletOffer(SQLModel, table=True):
    """One credential offer for one credential: its pre-authorized code is redeemed once, for
    an access token that is valid for the credential endpoint until `token_expires_at`."""

    __tablename__ = "wallet_offer"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True, description="SHA-256 of the code")
    credential_id: int = Field(foreign_key="issued_credential.id", ondelete="CASCADE", index=True)
    # Set when the offer asks for a transaction code (sent by e-mail); SHA-256 of code + tx code.
    tx_code_hash: str | None = Field(default=None, max_length=64)
    tx_code_failures: int = 0
    expires_at: datetime = timestamp(default_now=False)
    redeemed_at: datetime | None = timestamp(nullable=True, default_now=False)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    token_expires_at: datetime | None = timestamp(nullable=True, default_now=False)
    copies: int = Field(default=0, description="credentials issued with the access token")
    created_by: str = Field(max_length=40, description="learner | cli")
    created_at: datetime = timestamp()


class WalletNonce(SQLModel, table=True):
    """A `c_nonce` from the nonce endpoint: accepted in one key proof, before it expires."""

    __tablename__ = "wallet_nonce"

    id: int | None = Field(default=None, primary_key=True)
    nonce_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = timestamp(default_now=False, index=True)


class WalletCopy(SQLModel, table=True):
    """A copy of a credential bound to a holder's key: same issuer, same status entries."""

    __tablename__ = "wallet_copy"

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="wallet_offer.id", ondelete="CASCADE", index=True)
    credential_id: int = Field(foreign_key="issued_credential.id", ondelete="CASCADE", index=True)
    holder: str = Field(max_length=500, description="the holder's DID (credentialSubject.id)")
    format: str = Field(max_length=16, description="ldp_vc | jwt_vc_json")
    created_at: datetime = timestamp()
