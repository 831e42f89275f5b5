# The Managed Agents calls of the official Python SDK (`anthropic`), spelled the same way, over
# Debian's `requests`. The Python SDK is not packaged in Debian, and this project installs
# nothing from PyPI, so the seed scripts that use `from anthropic import Anthropic` import this
# module instead; everything else in them is the published code. Requests are what the SDK
# sends: POST/GET on /v1/... with `?beta=true`, `x-api-key`, `anthropic-version` and
# `anthropic-beta: managed-agents-2026-04-01`, JSON bodies; a non-2xx answer raises (the SDK's
# APIStatusError), the stream is the SSE endpoint read frame by frame. No retries (the SDK retries
# twice on 408/409/429/5xx; a seed that needed that would show it as a failure here).
# Only the methods the seeds call are provided: anything else is an AttributeError, not a guess.
import json

import requests

BETA = "managed-agents-2026-04-01"


class APIStatusError(Exception):
    def __init__(self, response):
        self.status_code = response.status_code
        self.body = response.text
        super().__init__(f"HTTP {response.status_code} from {response.request.method} {response.url}: {response.text}")


class Obj(dict):
    """A JSON object with the SDK's attribute access (agent.id, session.id, ...)."""

    def __getattr__(self, name):
        try:
            return _wrap(self[name])
        except KeyError:
            raise AttributeError(name) from None


def _wrap(value):
    if isinstance(value, dict) and not isinstance(value, Obj):
        return Obj(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class _Http:
    def __init__(self, api_key, base_url, timeout):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({
            "x-api-key": api_key,
            "anthropic-version": "2023-06-01",
            "anthropic-beta": BETA,
        })

    def request(self, method, path, body=None, stream=False):
        response = self.session.request(method, f"{self.base_url}{path}?beta=true", json=body,
                                        timeout=self.timeout, stream=stream)
        if not 200 <= response.status_code < 300:
            raise APIStatusError(response)
        return response if stream else _wrap(response.json())


class _EventStream:
    """What `client.beta.sessions.events.stream(id)` returns: iterate it for the events."""

    def __init__(self, response):
        self.response = response

    def __iter__(self):
        data = []
        for line in self.response.iter_lines(decode_unicode=True):
            if line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
            elif line == "" and data:
                yield _wrap(json.loads("\n".join(data)))
                data = []

    def close(self):
        self.response.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Resource:
    def __init__(self, http, path):
        self._http = http
        self._path = path

    def create(self, **body):
        return self._http.request("POST", self._path, body)

    def retrieve(self, resource_id):
        return self._http.request("GET", f"{self._path}/{resource_id}")


class _Credentials:
    def __init__(self, http):
        self._http = http

    def create(self, vault_id, **body):
        return self._http.request("POST", f"/v1/vaults/{vault_id}/credentials", body)


class _Vaults(_Resource):
    def __init__(self, http):
        super().__init__(http, "/v1/vaults")
        self.credentials = _Credentials(http)


class _Events:
    def __init__(self, http):
        self._http = http

    def send(self, session_id, *, events):
        return self._http.request("POST", f"/v1/sessions/{session_id}/events", {"events": events})

    def stream(self, session_id):
        return _EventStream(self._http.request("GET", f"/v1/sessions/{session_id}/events/stream", stream=True))


class _Sessions(_Resource):
    def __init__(self, http):
        super().__init__(http, "/v1/sessions")
        self.events = _Events(http)


class _Beta:
    def __init__(self, http):
        self.agents = _Resource(http, "/v1/agents")
        self.environments = _Resource(http, "/v1/environments")
        self.vaults = _Vaults(http)
        self.sessions = _Sessions(http)


class Anthropic:
    def __init__(self, *, api_key, base_url, timeout=600):
        self.beta = _Beta(_Http(api_key, base_url, timeout))
