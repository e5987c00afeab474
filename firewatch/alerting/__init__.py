"""firewatch stage: alerting (see README.md beside this file).

From evidence to a confirmed alert, delivered and escalated: intake → verify → group → mute →
route → deliver → escalate, with channels/sms, channels/push and channels/webhook.
"""

from firewatch.alerting.ack import Answer, TokenCheck, check_token, make_token
from firewatch.alerting.deliver import Deliverer
from firewatch.alerting.directory import Directory, load_directory
from firewatch.alerting.mute import Scope, Silence, add_silence, cancel_silence
from firewatch.alerting.people import acknowledge, arrive, confirm, dismiss, redeem, resolve
from firewatch.alerting.process import Env, Outcome
from firewatch.alerting.records import AlertKind, AlertState, Policy
from firewatch.alerting.service import Alerting
from firewatch.alerting.settings import (
    AckSettings,
    AlertSettings,
    Contacts,
    DeliverySettings,
    EscalationSettings,
    VerifySettings,
)
from firewatch.alerting.stage import AlertStage, IncidentSink

__all__ = [
    "AckSettings",
    "AlertKind",
    "AlertSettings",
    "AlertStage",
    "AlertState",
    "Alerting",
    "Answer",
    "Contacts",
    "Deliverer",
    "DeliverySettings",
    "Directory",
    "Env",
    "EscalationSettings",
    "IncidentSink",
    "Outcome",
    "Policy",
    "Scope",
    "Silence",
    "TokenCheck",
    "VerifySettings",
    "acknowledge",
    "add_silence",
    "arrive",
    "cancel_silence",
    "check_token",
    "confirm",
    "dismiss",
    "load_directory",
    "make_token",
    "redeem",
    "resolve",
]
