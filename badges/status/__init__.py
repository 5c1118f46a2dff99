"""Bitstring Status Lists: the codec (`bitstring`, pure) and the issuer's lists (`lists`)."""

from badges.status.lists import (
    DEFAULT_PURPOSES,
    PURPOSES,
    TTL_MS,
    allocate_entries,
    allocate_many,
    change_status,
    etag,
    get_list,
    history,
    local_status_list,
    release,
)

__all__ = [
    "DEFAULT_PURPOSES",
    "PURPOSES",
    "TTL_MS",
    "allocate_entries",
    "allocate_many",
    "change_status",
    "etag",
    "get_list",
    "history",
    "local_status_list",
    "release",
]
