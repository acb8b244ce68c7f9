class StarlingError(Exception):
    """A problem the Lib reports: a missing environment variable, a bad data file, an update the
    peer refused (the message is the peer's reason), an error answer from the peer."""
