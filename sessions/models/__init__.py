"""Treatment-program models, one module per concern; imported here so Django finds them all."""

from .calendar import CalendarFeed
from .controlled import ControlledProduct, CSLogEntry, ProductLot
from .enrollment import Enrollment
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
    "ClinicClosure",
    "ClinicHours",
    "ClinicianHours",
    "ControlledProduct",
    "CSLogEntry",
    "DosingSession",
    "Enrollment",
    "Protocol",
    "ProductLot",
    "ProtocolPhase",
    "RemsEvent",
    "RemsMonitoringForm",
    "Room",
    "Route",
    "TreatmentPlan",
]
