"""Request-body parsers that keep Django's body size limit and never turn bad input into a 500.

DRF reads the request stream directly, so Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check (done in
``HttpRequest.body``) never runs for JSON or urlencoded bodies; these parsers apply it themselves.
Multipart bodies are limited by Django's own multipart parser (files have their own limit).
"""

from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json


def read_limited(stream: IO[bytes]) -> bytes:
    """Read the whole body, refusing (413) one larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(body) > limit:
        raise RequestDataTooBig(_("The request body is larger than the allowed limit."))
    return body


class JSONParser(parsers.JSONParser):
    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            return {}
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = read_limited(stream)
        try:
            # NaN and Infinity are not JSON; DRF's loads refuses them.
            return json.loads(body.decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("JSON parse error - %(err)s") % {"err": exc}) from exc
        except RecursionError as exc:
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from exc


class FormParser(parsers.FormParser):
    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = read_limited(stream) if stream is not None else b""
        return QueryDict(body, encoding=encoding)
