import base64
import gzip
import json
import random
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from badges.status.bitstring import (
    MIN_LIST_BITS,
    BitstringError,
    StatusListRangeError,
    decode,
    encode,
    get_bit,
    set_bit,
)
from tests.support.reference import reference

BIT_STRING_LIST = ("ob3", "examples", "1edtech-validator-ob30", "bit-string-list")
W3C_EXAMPLES = ("ob3", "examples", "w3c-bitstring-status-list")

MIN_BYTES = MIN_LIST_BITS // 8


def _set_indexes(bits: bytearray) -> list[int]:
    return [i for i in range(len(bits) * 8) if get_bit(bits, i)]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_1edtech_test_list_has_only_bit_23_set():
    doc = json.loads(
        reference(*BIT_STRING_LIST, "testlist.status-list-credential.json").read_text()
    )
    bits = decode(doc["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == MIN_LIST_BITS
    # The revoked fixture credential points at this index (PROVENANCE.md).
    revoked = json.loads(reference(*BIT_STRING_LIST, "credential-status-revoked.json").read_text())
    index = int(revoked["credentialStatus"]["statusListIndex"])
    assert _set_indexes(bits) == [index] == [23]


def test_w3c_spec_examples_decode_to_an_empty_minimum_list():
    lists = []
    for path in sorted(reference(*W3C_EXAMPLES).glob("*.json")):
        subject = json.loads(path.read_text()).get("credentialSubject", {})
        if isinstance(subject, dict) and "encodedList" in subject:
            lists.append(subject["encodedList"])
    assert len(lists) == 2  # examples 03 and 05
    for encoded in lists:
        assert decode(encoded) == bytearray(MIN_BYTES)


def test_round_trip_and_interop_with_stdlib_gzip():
    rng = random.Random(7)
    bits = bytearray(MIN_BYTES)
    chosen = sorted(rng.sample(range(MIN_LIST_BITS), 500))
    for index in chosen:
        set_bit(bits, index, True)
    encoded = encode(bits)
    assert encoded.startswith("uH4sI")
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert decode(encoded) == bits
    assert _set_indexes(decode(encoded)) == chosen
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(raw) == bits


def test_encode_is_deterministic():
    bits = bytearray(MIN_BYTES)
    set_bit(bits, 42, True)
    assert encode(bits) == encode(bytes(bits))


def test_encode_refuses_a_list_below_the_minimum_size():
    with pytest.raises(BitstringError, match="at least"):
        encode(bytes(MIN_BYTES - 1))


def test_decode_accepts_missing_prefix_and_padding():
    bits = bytearray(MIN_BYTES)
    index = MIN_LIST_BITS
    bare = ""
    while len(bare) % 4 == 0:  # find a list whose base64 form needs padding
        index -= 1
        set_bit(bits, index, True)
        bare = encode(bits)[1:]
    padded = bare + "=" * (-len(bare) % 4)
    assert decode(bare) == bits
    assert decode("u" + padded) == bits


def test_decompression_bomb_is_refused():
    bomb = "u" + _b64url(gzip.compress(bytes(4 * 1024 * 1024), mtime=0))
    with pytest.raises(BitstringError, match="exceeds 1024 bytes"):
        decode(bomb, max_bytes=1024)
    assert len(decode(bomb, max_bytes=4 * 1024 * 1024)) == 4 * 1024 * 1024


def test_default_cap_refuses_oversized_lists():
    big = "u" + _b64url(gzip.compress(bytes(16 * 1024 * 1024 + 1), mtime=0))
    with pytest.raises(BitstringError, match="exceeds"):
        decode(big)


@pytest.mark.parametrize(
    "encoded, message",
    [
        ("", "non-empty"),
        ("u", "not GZIP"),
        ("u!!!!", "not base64url"),
        ("u" + _b64url(b"plain bytes, not gzip"), "not GZIP"),
        ("u" + _b64url(zlib.compress(bytes(MIN_BYTES))), "not GZIP"),
        ("u" + _b64url(gzip.compress(bytes(MIN_BYTES), mtime=0)[:20]), "truncated"),
        ("u" + _b64url(gzip.compress(bytes(MIN_BYTES), mtime=0) + b"junk"), "after the GZIP"),
    ],
)
def test_malformed_input_raises_bitstring_error(encoded, message):
    with pytest.raises(BitstringError, match=message):
        decode(encoded)


def test_corrupt_crc_is_detected():
    raw = bytearray(gzip.compress(bytes(MIN_BYTES), mtime=0))
    raw[-8] ^= 0xFF  # CRC32 field of the GZIP trailer
    with pytest.raises(BitstringError, match="corrupt"):
        decode("u" + _b64url(bytes(raw)))


def test_bit_order_is_most_significant_first():
    buf = bytearray(2)
    set_bit(buf, 0, True)
    set_bit(buf, 7, True)
    set_bit(buf, 8, True)
    assert buf == bytearray([0x81, 0x80])
    assert get_bit(buf, 0) and get_bit(buf, 7) and get_bit(buf, 8)
    assert not get_bit(buf, 1)
    set_bit(buf, 0, False)
    assert buf == bytearray([0x01, 0x80])


@pytest.mark.parametrize("index", [-1, 16, 10_000])
def test_out_of_range_index(index):
    buf = bytearray(2)
    with pytest.raises(StatusListRangeError):
        get_bit(buf, index)
    with pytest.raises(IndexError):
        set_bit(buf, index, True)


INTEROP = Path(__file__).resolve().parents[2] / "interop"
# Decode our list with Digital Bazaar's implementation and encode one for us to decode.
DIGITAL_BAZAAR_PROBE = """
import {BitstringStatusList} from '@digitalbazaar/vc-bitstring-status-list';
const input = JSON.parse(process.argv[1]);
const decoded = await BitstringStatusList.decode({encodedList: input.encoded});
const set = [];
for (let i = 0; i < decoded.length; i++) if (decoded.getStatus(i)) set.push(i);
const list = new BitstringStatusList({length: input.length});
for (const i of input.indexes) list.setStatus(i, true);
console.log(JSON.stringify({length: decoded.length, set, encoded: await list.encode()}));
"""


@pytest.mark.interop
def test_interop_with_digital_bazaar_status_list():
    package = INTEROP / "node_modules" / "@digitalbazaar" / "vc-bitstring-status-list"
    if shutil.which("node") is None or not package.exists():
        pytest.skip("node or @digitalbazaar/vc-bitstring-status-list not installed")
    ours = bytearray(MIN_BYTES)
    for index in (0, 23, MIN_LIST_BITS - 1):
        set_bit(ours, index, True)
    request = {"encoded": encode(ours), "length": MIN_LIST_BITS, "indexes": [5, 99, 1000]}
    result = subprocess.run(
        ["node", "--input-type=module", "-e", DIGITAL_BAZAAR_PROBE, json.dumps(request)],
        cwd=INTEROP,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answer = json.loads(result.stdout)
    assert answer["length"] == MIN_LIST_BITS
    assert answer["set"] == [0, 23, MIN_LIST_BITS - 1]
    assert _set_indexes(decode(answer["encoded"])) == [5, 99, 1000]
