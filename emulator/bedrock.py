"""Bedrock Runtime Converse / ConverseStream on the local backend: a scripted stand-in.

This is NOT a language model. It follows one fixed rule so the workshop's agent can run
offline and deterministically:

* tools offered and no tool result yet: call the first tool, with no input;
* after a tool result: answer in its own words around that result, as a model does, and
  write each link in it the way models do: followed by a period, in bold or backticks,
  as a markdown link, on a line of its own, or escaped for markdown (which breaks it);
* no tools at all: say what it is;
* the workshop's model through a profile that does not answer in the caller's region:
  refused, as Bedrock refuses it.

The wordings take turns, answer after answer, so a run of the workshop meets each of
them: nothing may work only because a model repeated the tool's text.

Streaming answers use AWS's binary event-stream framing, which botocore decodes; botocore
has no encoder, so the few lines that write a frame are here.
"""

import itertools
import json
import re
import struct
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from moto.core.utils import get_service_model
from werkzeug.wrappers import Request, Response

from emulator.exceptions import ValidationException
from emulator.model_access import FOUNDATION_MODEL, PROFILES
from emulator.service import validate
from emulator.wsgi import SIGV4, json_response

PATH = re.compile(r"^/model/(?P<model>[^/]+)/(?P<operation>converse|converse-stream)$")
_MODEL = get_service_model("bedrock-runtime")
_OPERATIONS = {"converse": "Converse", "converse-stream": "ConverseStream"}
NO_TOOLS_ANSWER = (
    "I am the local backend's scripted stand-in for a Bedrock model, not a language model: "
    "I call the first tool I am offered and tell you what it answered."
)
URL = re.compile(r"https?://\S+")
# How a model words its answer: (its sentences around the tool's result, how it writes a link).
WORDINGS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("I checked for you.\n\n{result}\n\nLet me know when that's done.", lambda url: f"{url}."),
    ("Here is what I found:\n\n{result}", lambda url: f"**{url}**"),
    ("{result}\n\nAnything else I can help with?", lambda url: f"`{url}`"),
    ("Sure, I asked the tool. {result}", lambda url: f"[Authorize access]({url})"),
    ("The service answered.\n{result}", lambda url: f"\n{url}\n"),
    ("Done.\n\n{result}", lambda url: url.replace("_", r"\_")),
)
_answers = itertools.count()  # which wording the next answer takes


def paraphrase(result: str) -> str:
    """``result`` in the next wording's words, its links written that wording's way."""
    around, link = WORDINGS[next(_answers) % len(WORDINGS)]
    return around.format(result=URL.sub(lambda found: link(found[0]), result))


def reply(request: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The assistant's content blocks and stop reason for a Converse request."""
    offered = request.get("toolConfig", {}).get("tools", [])
    tools = [tool["toolSpec"] for tool in offered if "toolSpec" in tool]
    last = request.get("messages", [{}])[-1].get("content", [])
    results = [block["toolResult"] for block in last if "toolResult" in block]
    if results:
        text = "".join(
            part["text"] if "text" in part else json.dumps(part.get("json", part))
            for part in results[-1].get("content", [])
        )
        return [{"text": paraphrase(text)}], "end_turn"
    if tools:
        call_id = f"tooluse_{uuid.uuid4().hex[:22]}"
        return [
            {"toolUse": {"toolUseId": call_id, "name": tools[0]["name"], "input": {}}}
        ], "tool_use"
    return [{"text": NO_TOOLS_ANSWER}], "end_turn"


def _usage(request: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, int]:
    """A rough count (four characters a token) so usage reports are plausible, not zero."""
    prompt = len(json.dumps(request.get("messages", []))) // 4
    answer = len(json.dumps(content)) // 4
    return {"inputTokens": prompt, "outputTokens": answer, "totalTokens": prompt + answer}


def _frame(event_type: str, body: dict[str, Any]) -> bytes:
    headers = b"".join(
        struct.pack("!B", len(name)) + name + b"\x07" + struct.pack("!H", len(value)) + value
        for name, value in (
            (b":event-type", event_type.encode()),
            (b":content-type", b"application/json"),
            (b":message-type", b"event"),
        )
    )
    payload = json.dumps(body).encode()
    prelude = struct.pack("!II", 12 + len(headers) + len(payload) + 4, len(headers))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + headers + payload
    return message + struct.pack("!I", zlib.crc32(message))


def _stream(content: list[dict[str, Any]], stop: str, usage: dict[str, int]) -> Iterator[bytes]:
    started = time.monotonic()
    yield _frame("messageStart", {"role": "assistant"})
    for index, block in enumerate(content):
        if "toolUse" in block:
            call = block["toolUse"]
            start = {"toolUse": {"toolUseId": call["toolUseId"], "name": call["name"]}}
            yield _frame("contentBlockStart", {"contentBlockIndex": index, "start": start})
            delta = {"toolUse": {"input": json.dumps(call["input"])}}
        else:
            delta = {"text": block["text"]}
        yield _frame("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})
        yield _frame("contentBlockStop", {"contentBlockIndex": index})
    yield _frame("messageStop", {"stopReason": stop})
    latency = int((time.monotonic() - started) * 1000)
    yield _frame("metadata", {"usage": usage, "metrics": {"latencyMs": latency}})


def _checked(request: Request, match: re.Match) -> dict[str, Any]:
    """The request's body, checked against Bedrock's model as the service checks it, so
    that `reply` reads only the types the model allows."""
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError as error:  # not JSON, or not UTF-8
        raise ValidationException("The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise ValidationException("The request body must be a JSON object.")
    operation = _OPERATIONS[match["operation"]]
    validate({**body, "modelId": match["model"]}, _MODEL.operation_model(operation).input_shape)
    return body


def _served_here(model_id: str, request: Request) -> None:
    """Refuse, as Bedrock does, the workshop's model through a profile of another geography
    (the quickstart's ``us.`` id outside the US): that profile does not answer in the
    caller's region. Any other id is answered, by the same script."""
    geography, _, model = model_id.partition(".")
    signed = SIGV4.search(request.headers.get("Authorization", ""))
    region = signed["region"] if signed else None
    if model == FOUNDATION_MODEL and region not in PROFILES.get(geography, ()):
        raise ValidationException("The provided model identifier is invalid.")


def app(environ: dict, start_response):
    """POST /model/<modelId>/converse[-stream] for any model id the caller's region serves."""
    request = Request(environ)
    match = PATH.match(request.path)
    if match is None or request.method != "POST":
        raise ValidationException("A Converse request is a POST to /model/<modelId>/converse.")
    _served_here(match["model"], request)
    body = _checked(request, match)
    if not body.get("messages"):
        raise ValidationException("A Converse request needs messages.")
    content, stop = reply(body)
    usage = _usage(body, content)
    if match["operation"] == "converse":
        answer = {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": usage,
            "metrics": {"latencyMs": 0},
        }
        return json_response(answer)(environ, start_response)
    frames = _stream(content, stop, usage)
    return Response(frames, content_type="application/vnd.amazon.eventstream")(
        environ, start_response
    )
