"""Errors the stack raises. Each message is a sentence a person can act on."""


class StackError(Exception):
    """Something stops a part from starting; the message names it and what to change."""


class PortInUse(StackError):
    pass


class MissingBinary(StackError):
    pass


class DownloadFailed(StackError):
    pass


class StartFailed(StackError):
    pass
