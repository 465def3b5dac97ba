"""A small text model for the memorisation tests: a word-level Markov chain served over an OpenAI-compatible API.

A Markov chain of order 4 trained on a small corpus memorises it: with greedy decoding, a prompt
ending in a training passage continues that passage token for token, while a prompt from text it
never saw gets the chain's fallback. The server speaks ``POST /v1/completions`` like vLLM or
llama.cpp's server, so the check's real HTTP client runs against it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from audits.checks.memorisation import tokenize


class MarkovModel:
    def __init__(self, documents: Sequence[str], order: int = 4) -> None:
        self.order = order
        self.next: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
        unigrams: Counter[str] = Counter()
        for document in documents:
            tokens = tokenize(document)
            unigrams.update(tokens)
            for i in range(len(tokens) - order):
                self.next[tuple(tokens[i : i + order])][tokens[i + order]] += 1
        self.fallback = unigrams.most_common(1)[0][0]

    def complete(self, prompt: str, max_tokens: int) -> str:
        """Greedy decoding: the most frequent next token after the last ``order`` tokens."""
        context = tokenize(prompt)[-self.order :]
        out: list[str] = []
        for _ in range(max_tokens):
            options = self.next.get(tuple(context))
            token = options.most_common(1)[0][0] if options else self.fallback
            out.append(token)
            context = [*context[1:], token]
        return " " + " ".join(out)


@contextmanager
def serve(model: MarkovModel) -> Iterator[str]:
    """Serve the model on a free local port; yields the base URL (``http://127.0.0.1:<port>/v1``)."""
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            if self.path != "/v1/completions":
                self.send_error(404)
                return
            requests.append(body)
            text = model.complete(body["prompt"], int(body.get("max_tokens", 16)))
            payload = json.dumps(
                {
                    "id": f"cmpl-{len(requests)}",
                    "object": "text_completion",
                    "model": body.get("model", "markov"),
                    "choices": [{"index": 0, "text": text, "finish_reason": "length", "logprobs": None}],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
