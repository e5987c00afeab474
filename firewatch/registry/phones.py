"""Masking of phone numbers: people's numbers must not end up in logs or error messages."""

from __future__ import annotations

import re
from typing import Final

KEPT_PREFIX: Final = "+86"
"""The contract's numbers are all +86; the country code identifies nobody, so it stays readable."""

SEPARATORS: Final = frozenset(" -().+")
"""Kept as they are, so that a message still shows why a number is malformed (a space, a dash)."""

PHONE_LIKE: Final = re.compile(
    r"\+[\d\s().-]{6,}\d"  # anything international
    r"|(?<!\d)1[3-9]\d{9}(?!\d)"  # a mainland mobile number without its +86
    r"|(?<!\d)0\d{2,3}[\s-]?\d{7,8}(?!\d)"  # a mainland landline with its area code
)


def mask_phone(phone: str) -> str:
    """The number with every digit but the last four replaced by `*`.

    >>> mask_phone("+8613800000000")
    '+86*******0000'
    >>> mask_phone("+86 138-0000-1234")
    '+86 ***-****-1234'
    >>> mask_phone("+442079460958")
    '+********0958'
    >>> mask_phone("13800000000")
    '*******0000'
    >>> mask_phone("12345")
    '*****'
    """
    digits = sum(c.isdigit() for c in phone)
    # Too short to be a number: showing four digits would show most of whatever it is.
    shown_tail = 4 if digits >= 8 else 0
    head = KEPT_PREFIX if phone.startswith(KEPT_PREFIX) and digits >= 11 else ""
    out = [head]
    seen = sum(c.isdigit() for c in head)
    for char in phone[len(head) :]:
        if char.isdigit():
            seen += 1
            out.append(char if seen > digits - shown_tail else "*")
        else:
            out.append(char if char in SEPARATORS else "*")
    return "".join(out)


def mask_phones_in(text: str) -> str:
    """Any text with whatever looks like a phone number in it masked.

    >>> mask_phones_in("call +8613800000000 or 021-61230101, room 1203")
    'call +86*******0000 or ***-****0101, room 1203'
    """
    return PHONE_LIKE.sub(lambda m: mask_phone(m.group()), text)
