"""An SMS backend for the real-worker tests: FileSmsBackend that a test can hold just before or just after the write.

The test names a folder in KAP_TEST_SMS_GATE. While `hold-before` (or `hold-after`) there holds a number n and the
outbox has n lines, the worker stops at that point of the send, writes `held-before` (`held-after`) with the message's
key, and waits until the hold file is gone: the test kills the worker there, at a known point of a real send.
"""

import os
import time
from pathlib import Path

from kap_clinic.kernel.notifications.backends import FileSmsBackend


class GatedFileSmsBackend(FileSmsBackend):
    def send(self, to, text, key):
        self._hold("before", key)
        result = super().send(to, text, key)
        self._hold("after", key)
        return result

    def _lines(self) -> int:
        try:
            return len(self._path().read_text(encoding="utf-8").splitlines())
        except FileNotFoundError:
            return 0

    def _hold(self, where: str, key: str) -> None:
        folder = os.environ.get("KAP_TEST_SMS_GATE")
        if not folder:
            return
        hold = Path(folder) / f"hold-{where}"
        try:
            threshold = int(hold.read_text())
        except (FileNotFoundError, ValueError):
            return
        if self._lines() < threshold:
            return
        (Path(folder) / f"held-{where}").write_text(key)
        while hold.exists():
            time.sleep(0.02)
