"""Why an outbound request was refused or failed; each error carries the HTTP status and a
stable `reason` code the caller can hand to its client."""


class RemoteFetchError(Exception):
    """The URL was refused or the fetch failed. `reason` is a stable code for programs."""

    status = 422
    reason = "FETCH_FAILED"

    def __init__(self, message: str, url: str = ""):
        super().__init__(message)
        self.message = message
        self.url = url


class InvalidURL(RemoteFetchError):
    status = 400
    reason = "INVALID_URL"


class BlockedDestination(RemoteFetchError):
    reason = "BLOCKED_DESTINATION"


class TooLarge(RemoteFetchError):
    status = 413
    reason = "TOO_LARGE"


class FetchTimeout(RemoteFetchError):
    reason = "TIMEOUT"
