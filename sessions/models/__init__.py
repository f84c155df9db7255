"""Treatment-program models, one module per concern; imported here so Django finds them all."""

from .calendar import CalendarFeed
from .consent import ConsentAcceptance, ConsentDocument
from .controlled import ControlledProduct, CSLogEntry, ProductLot
from .enrollment import Enrollment
from .record import (
    AdverseEvent,
    Discharge,
    DoseAdministration,
    DoseTopUp,
    PreDoseCheck,
    PreDoseRiskAcknowledgement,
    RecordAmendment,
    RecordSignature,
    ScaleScore,
    VitalSign,
)
from .rems import RemsEvent, RemsMonitoringForm
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
    "CalendarFeed",
    "ConsentAcceptance",
    "ConsentDocument",
    "ClinicClosure",
    "ClinicHours",
    "ClinicianHours",
    "ControlledProduct",
    "CSLogEntry",
    "AdverseEvent",
    "Discharge",
    "DoseAdministration",
    "DoseTopUp",
    "DosingSession",
    "Enrollment",
    "PreDoseCheck",
    "PreDoseRiskAcknowledgement",
    "Protocol",
    "ProductLot",
    "ProtocolPhase",
    "RemsEvent",
    "RemsMonitoringForm",
    "RecordAmendment",
    "RecordSignature",
    "Room",
    "Route",
    "ScaleScore",
    "TreatmentPlan",
    "VitalSign",
]
