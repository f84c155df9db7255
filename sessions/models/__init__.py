"""Treatment-program models, one module per concern; imported here so Django finds them all."""

from .enrollment import Enrollment
from .record import (
    AdverseEvent,
    Discharge,
    DoseAdministration,
    PreDoseCheck,
    RecordAmendment,
    RecordSignature,
    ScaleScore,
    VitalSign,
)
from .scheduling import (
    ClinicClosure,
    ClinicHours,
    ClinicianHours,
    DosingSession,
    Protocol,
    ProtocolPhase,
    Room,
    Route,
    TreatmentPlan,
)

__all__ = [
    "AdverseEvent",
    "ClinicClosure",
    "ClinicHours",
    "ClinicianHours",
    "Discharge",
    "DoseAdministration",
    "DosingSession",
    "Enrollment",
    "PreDoseCheck",
    "Protocol",
    "ProtocolPhase",
    "RecordAmendment",
    "RecordSignature",
    "Room",
    "Route",
    "ScaleScore",
    "TreatmentPlan",
    "VitalSign",
]
