from typing import Optional


class StarlingError(Exception):
    """A problem the Lib reports: a missing environment variable, a bad data file, an update the
    peer refused (the message is the peer's reason), an error answer from the peer, an inference
    request refused (``status``: its HTTP status; None when no HTTP answer came)."""

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.status = status
