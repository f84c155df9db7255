from celery import shared_task

from . import services


@shared_task
def mark_checkin_missed(checkin_id: int) -> None:
    """Mark one overdue check-in missed and alert its clinician; a second delivery finds it no longer open."""
    services.checkin_mark_missed(checkin_id=checkin_id)


@shared_task
def checkins_close_overdue() -> int:
    """Beat, hourly: queue one task per open check-in past its closing time."""
    ids = services.overdue_checkin_ids()
    for checkin_id in ids:
        mark_checkin_missed.delay(checkin_id)
    return len(ids)
