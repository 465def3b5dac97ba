"""The request id of the change being made, carried across the call stack of one request."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("custodia_request_id", default="")
