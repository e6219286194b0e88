"""An OpenAI-compatible model stub: deterministic, scriptable, able to fail on demand.

Run it with ``python -m app model-stub [--host 127.0.0.1] [--port 8300]`` (loopback only), or in
a test with ``app.model_stub.server.serve_in_thread()``. Point the SDK at ``<url>/v1`` with any
non-empty API key.

OpenAI surface (``Authorization: Bearer <anything non-empty>``, else 401 ``invalid_api_key``):

* ``GET /v1/models``: ``stub-small``, ``stub-large`` (any model id is accepted anyway).
* ``POST /v1/chat/completions``: model, messages, stream, stream_options.include_usage, tools,
  tool_choice, max_tokens / max_completion_tokens, temperature, n=1. A bad body is a 400
  ``{"error": {"message", "type": "invalid_request_error", "param": null,
  "code": "invalid_request"}}``; every error has that shape.

Replies (see :mod:`app.model_stub.replies`): ``"Echo: <last user message, markers removed and
whitespace collapsed, first 200 chars>"``; after a trailing ``tool`` message, ``"Tool result: <its
first 200 chars>"``. Streamed one word per delta; ``max_tokens`` cuts words, finish ``"length"``.
Usage: prompt = words in all messages + 1 per message; completion = deltas sent (words of tool
names and arguments for tool calls).

Markers in the last message, when it is a user message:

* ``[[tool:NAME {"json": "object"}]]``: a tool call to NAME, if offered in ``tools``;
* ``[[fail:500]]``, ``[[fail:429]]`` (``Retry-After: 1``), ``[[fail:timeout]]`` (30 s, ends early
  when the client disconnects), ``[[fail:bad-tool-json]]``, ``[[fail:broken-stream]]`` (3 deltas,
  half a chunk, connection dropped), ``[[fail:cut-stream]]`` (3 deltas, then a clean end with no
  finish_reason and no ``[DONE]``), ``[[fail:slow]]`` / ``[[fail:slow:MS]]`` (200 ms / MS between
  chunks);
* ``[[session:ID]]`` (in any message): the session namespace (else the ``X-Stub-Session``
  header, else the default session ``""``).

Control API (loopback callers, no auth; ``?session=ID`` optional everywhere):

* ``POST /_stub/script`` ``{"responses": [item, ...]}``, item = ``{"text"?, "tool_calls"?:
  [{"name", "arguments": object|string, "id"?}], "fail"?, "delay_ms"?, "retry_after"?,
  "repeat"?, "raw_chunks"?: [str, ...]}`` (``raw_chunks``: each string sent verbatim as one
  event's ``data:``, then ``[DONE]``; a hostile model's wrong types, nesting and floods): consumed
  in order by that session's next completions, ahead of any marker;
* ``GET /_stub/requests``: ``{"requests": [{"seq", "session", "received_at", "body"}]}`` (the
  last 500 request bodies, as sent);
* ``POST /_stub/reset``: forget that session's script and recordings (no ``session``: all).
"""
