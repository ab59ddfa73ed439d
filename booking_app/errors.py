"""Errors a client sees: each has an HTTP status, a stable code and a sentence saying what to do."""

from __future__ import annotations


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(ApiError):
    status = 400
    code = "invalid_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class PaymentRequired(ApiError):
    status = 402
    code = "insufficient_points"


class Forbidden(ApiError):
    status = 403
    code = "queue_token_not_active"


class NotYourToken(Forbidden):
    """The queue token is valid but names another user than the data asked for."""

    code = "queue_token_of_another_user"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class TokenAlreadyIssued(Conflict):
    """The user holds a live token; it is given only once, to whoever asked first."""

    code = "queue_token_already_issued"


class BodyTooLarge(ApiError):
    status = 413
    code = "body_too_large"


class SeatTaken(Conflict):
    code = "seat_taken"


class SeatBusy(Conflict):
    """Someone else holds the seat's lock longer than we may wait: for the client, taken."""

    code = "seat_busy"


class PaymentInProgress(Conflict):
    """Another request holds the reservation's (or the user's points) lock: retry the same."""

    code = "payment_in_progress"


class Unavailable(ApiError):
    status = 503
    code = "unavailable"


class DatabaseBusy(Unavailable):
    code = "database_busy"

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message or "The service has no free database connection right now. Retry in a second."
        )


class RowsLocked(Unavailable):
    """A row the request needs stayed locked by another transaction past the lock wait timeout
    (plan FP#2: answered at once, not after MariaDB's 50 s)."""

    code = "database_rows_locked"

    def __init__(self, seconds: int) -> None:
        super().__init__(
            f"The data this request needs has been locked by another transaction for over "
            f"{seconds} s. Retry in a few seconds."
        )
