"""The OpenLineage request body: JSON, plain or gzip-compressed, with a size limit applied after decompression."""

from __future__ import annotations

import zlib
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.utils import json

from access.api.exceptions import PayloadTooLarge

READ_CHUNK = 64 * 1024


def _read_body(stream: IO[bytes], encoding_header: str, limit: int) -> bytes:
    """The decompressed body, refusing (413) more than ``limit`` bytes, compressed or not (a gzip bomb too)."""
    encoding = encoding_header.strip().lower()
    if encoding in ("", "identity"):
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(_("The event is larger than the limit of %(limit)d bytes.") % {"limit": limit})
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(
            encoding, _("Content-Encoding %(enc)s is not supported; use gzip.") % {"enc": encoding}
        )
    # wbits 47 = 32 + 15: zlib detects a gzip or zlib header by itself.
    inflater = zlib.decompressobj(47)
    out = bytearray()
    read = 0
    try:
        while chunk := stream.read(READ_CHUNK):
            read += len(chunk)
            if read > limit:
                raise PayloadTooLarge(
                    _("The compressed body is larger than the limit of %(limit)d bytes.") % {"limit": limit}
                )
            out += inflater.decompress(chunk, limit + 1 - len(out))
            if len(out) > limit or inflater.unconsumed_tail:
                raise PayloadTooLarge(
                    _("The event is larger than the limit of %(limit)d bytes once decompressed.") % {"limit": limit}
                )
        out += inflater.flush()
    except zlib.error as exc:
        raise ParseError(_("The body is not valid gzip data: %(err)s") % {"err": exc}) from exc
    if len(out) > limit:
        raise PayloadTooLarge(
            _("The event is larger than the limit of %(limit)d bytes once decompressed.") % {"limit": limit}
        )
    return bytes(out)


class OpenLineageParser(parsers.BaseParser):
    """Any content type (producers send ``application/json``, some nothing at all); JSON inside."""

    media_type = "*/*"
    limit_setting = "LINEAGE_MAX_EVENT_BYTES"

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            raise ParseError(_("The request has no body: send one OpenLineage event as JSON."))
        request = (parser_context or {}).get("request")
        header = request.META.get("HTTP_CONTENT_ENCODING", "") if request is not None else ""
        body = _read_body(stream, header, getattr(settings, self.limit_setting))
        if not body.strip():
            raise ParseError(_("The request body is empty: send one OpenLineage event as JSON."))
        try:
            return json.loads(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ParseError(_("The body is not UTF-8 text: %(err)s") % {"err": exc}) from exc
        except ValueError as exc:
            raise ParseError(_("The body is not valid JSON: %(err)s") % {"err": exc}) from exc
        except RecursionError as exc:
            raise ParseError(_("The JSON document is nested too deeply.")) from exc


class OpenLineageBatchParser(OpenLineageParser):
    limit_setting = "LINEAGE_MAX_BATCH_BYTES"
