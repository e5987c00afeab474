"""Why a message was not accepted: the stable codes stored with every rejected message.

The values are stored in `rejected_message.reason`, served by `GET /api/v1/rejected` and used
as the `reason` label of the rejection metric, so they never change meaning and are never
renamed; a new kind of rejection gets a new code. They are grouped in the order in which
`ingest.decode.decode` checks (topic, registry, payload, fields): a message with several faults
carries the first one found.
"""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    # The topic.
    TOPIC_MALFORMED = "topic_malformed"
    """Not `fw/v1/{kind}/{id}/{type}`: wrong prefix or version, or not five levels."""
    ENGINE_TOPIC = "engine_topic"
    """An engine's own announcement (`fw/v1/engine/{partition}/availability`), not device data."""
    UNEXPECTED_COMMAND = "unexpected_command"
    """A message on a `set` topic: commands go to devices; no device publishes there."""
    UNKNOWN_KIND = "unknown_kind"
    """The kind segment is not `smoke`, `charging`, `elevator`, `occupancy` or `venue`."""
    BAD_DEVICE_ID = "bad_device_id"
    """The device id breaks `[A-Za-z0-9_-]{1,64}`."""
    BAD_VENUE_ID = "bad_venue_id"
    """The venue id breaks `[A-Za-z0-9_-]{1,64}`."""
    UNKNOWN_MESSAGE_TYPE = "unknown_message_type"
    """A message type this kind does not send (an elevator `reading`, a venue `event`, ...)."""

    # The registry.
    UNKNOWN_DEVICE = "unknown_device"
    """The device is not in the registry."""
    KIND_MISMATCH = "kind_mismatch"
    """The device is registered as another kind than its topic says."""
    UNKNOWN_VENUE = "unknown_venue"
    """A scan for a venue that is not in the registry."""

    # The payload as bytes and as JSON.
    PAYLOAD_TOO_LARGE = "payload_too_large"
    """More than 4 KiB."""
    INVALID_UTF8 = "invalid_utf8"
    """Not UTF-8."""
    INVALID_JSON = "invalid_json"
    """Not JSON (including lone surrogate escapes and a byte order mark)."""
    NON_FINITE_NUMBER = "non_finite_number"
    """`NaN`, `Infinity` or a number that overflows a double (`1e400`)."""
    NUL_CHARACTER = "nul_character"
    """A `\\u0000` in a string: PostgreSQL text and jsonb cannot store it."""
    TOO_DEEP = "too_deep"
    """Objects and arrays nested more than 32 levels deep (`payload.MAX_DEPTH`)."""
    NOT_AN_OBJECT = "not_an_object"
    """JSON, but an array, string, number, boolean or null instead of an object."""
    BAD_AVAILABILITY = "bad_availability"
    """An availability payload other than the plain text `online` or `offline`."""

    # The fields.
    DEVICE_ID_MISMATCH = "device_id_mismatch"
    """The payload's `device_id` names another device than the topic."""
    VENUE_ID_MISMATCH = "venue_id_mismatch"
    """A scan payload's `venue_id` names another venue than the topic."""
    MISSING_FIELD = "missing_field"
    """A required field is absent, null or an empty string."""
    WRONG_TYPE = "wrong_type"
    """A listed field of the wrong JSON type (`true` is no number, `1.5` or `3.0` no integer)."""
    OUT_OF_RANGE = "out_of_range"
    """A value outside the contract's range or physically impossible (`ingest.fields.BOUNDS`)."""
    BAD_TIMESTAMP = "bad_timestamp"
    """`ts` is a string that is not RFC 3339 with an offset, or names no real instant."""
    TS_IN_FUTURE = "ts_in_future"
    """`ts` is further ahead of the time of receipt than `DecodeLimits.max_future_s`."""
    TS_TOO_OLD = "ts_too_old"
    """`ts` is further behind the time of receipt than `DecodeLimits.max_age_s`."""
    UNKNOWN_EVENT = "unknown_event"
    """An `event` name the contract does not list for the kind."""
    UNKNOWN_STATE = "unknown_state"
    """A state the contract does not name: a charging `state` other than `idle`, `charging`,
    `full`, `fault`; a gas `valve` other than `open`, `closed`."""
    UNKNOWN_SCAN_TYPE = "unknown_scan_type"
    """A `scan_type` other than `inspection`, `self_check`, `rectification`."""

    # The store.
    STORE_REFUSED = "store_refused"
    """Valid by the contract, yet PostgreSQL refused to store it (the detail has its error);
    kept here so that one such message cannot hold up the batch around it."""
