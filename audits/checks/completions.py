"""A client for OpenAI-compatible completions endpoints (vLLM, llama.cpp's server, TGI, Ollama, OpenAI).

The memorisation check collects a model's greedy continuations of prompts through it. It speaks
the plain ``POST <base>/v1/completions`` protocol with the standard library only (one request per
prompt, ``temperature`` 0), so that any server that serves a model version can be checked without
an SDK. Every failure becomes ``EndpointError`` with a sentence naming the endpoint and the cause.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


class EndpointError(Exception):
    """The endpoint could not be reached or answered something that is not a completion."""


def completions_url(endpoint: str) -> str:
    """The completions URL of a serving endpoint given as its base, its ``/v1`` root or the full URL."""
    url = endpoint.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise EndpointError(f"The serving endpoint “{endpoint}” is not an http:// or https:// address.")
    if url.endswith("/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/completions"
    return url + "/v1/completions"


@dataclass(frozen=True)
class CompletionsClient:
    endpoint: str
    model: str = ""
    api_key: str = ""
    timeout: float = 60.0
    retries: int = 1

    @property
    def url(self) -> str:
        return completions_url(self.endpoint)

    def complete(self, prompt: str, max_tokens: int) -> str:
        """The greedy continuation of ``prompt`` (temperature 0, one choice)."""
        body: dict[str, Any] = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "n": 1}
        if self.model:
            body["model"] = self.model
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        url = self.url  # http:// or https:// only (completions_url refuses anything else)
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http(s) checked)
                    payload = response.read()
                break
            except urllib.error.HTTPError as exc:
                detail = exc.read(300).decode("utf-8", "replace").strip()
                if exc.code >= 500 and attempt < self.retries:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                raise EndpointError(
                    f"The serving endpoint {self.url} answered HTTP {exc.code}" + (f": {detail}" if detail else ".")
                ) from None
            except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
                if attempt < self.retries:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                reason = getattr(exc, "reason", exc)
                raise EndpointError(f"The serving endpoint {self.url} could not be reached: {reason}.") from None
        try:
            data = json.loads(payload)
            text = data["choices"][0]["text"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise EndpointError(
                f"The serving endpoint {self.url} did not answer with an OpenAI-style completion "
                "(a JSON object with choices[0].text)."
            ) from None
        if not isinstance(text, str):
            raise EndpointError(f"The serving endpoint {self.url} answered a completion that is not text.")
        return text
