"""Treatment-program models, one module per concern; imported here so Django finds them all."""

from .calendar import CalendarFeed
from .enrollment import Enrollment
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
    "DosingSession",
    "Enrollment",
    "Protocol",
    "ProtocolPhase",
    "Room",
    "Route",
    "TreatmentPlan",
]
