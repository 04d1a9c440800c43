"""Serving AWS operations moto lacks, the way moto serves its own.

A `ModelResponse` is a moto `BaseResponse`: moto finds the operation from method and path,
parses the request and serializes the result with botocore's service model. This module
adds what only a server checks (lengths, patterns and enums from the model), answers our
`AwsError`s with the emulator's one serializer, and makes a WSGI app per response class
that lets any other exception through to `emulator.server`, which logs it.
"""

import base64
import json
import re
from typing import Any

from botocore.validate import ParamValidator, ValidationErrors
from flask import Flask
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import (
    camelcase_to_underscores,
    convert_to_flask_response,
    get_service_model,
)
from moto.moto_server.werkzeug_app import BackendRequest

from emulator.exceptions import (
    AwsError,
    NotImplementedByThisBackend,
    Serialized,
    UnknownOperationException,
    ValidationException,
)


class _Errors(ValidationErrors):
    def report(self, name, reason, **kwargs) -> None:
        """Members the model does not know are ignored, as AWS's JSON services ignore them."""
        if reason != "unknown field":
            super().report(name, reason, **kwargs)

    def _format_error(self, error):
        reason, name, details = error
        if reason == "constraint":
            return (
                f"Value at '{self._get_name(name)}' failed to satisfy constraint: {details['rule']}"
            )
        return super()._format_error(error)


class ServerValidator(ParamValidator):
    """botocore's client-side checks (required, types, min, unions) plus max, pattern and enum."""

    def validate(self, params: Any, shape) -> _Errors:
        errors = _Errors()
        self._validate(params, shape, errors, name="")
        return errors

    def _validate(self, params: Any, shape, errors, name: str) -> None:
        super()._validate(params, shape, errors, name)
        measured = _SIZES.get(shape.type_name)
        if measured is not None and isinstance(params, measured[0]):
            self._constraints(params, measured[1](params), shape, errors, name)

    def _constraints(self, value: Any, size: int, shape, errors, name: str) -> None:
        meta = shape.metadata
        if "max" in meta and size > meta["max"]:
            errors.report(name, "constraint", rule=f"Member must not exceed {meta['max']}")
        if "enum" in meta and value not in meta["enum"]:
            errors.report(name, "constraint", rule=f"Member must be one of {meta['enum']}")
        if "pattern" in meta and isinstance(value, str) and not _matches(meta["pattern"], value):
            errors.report(
                name, "constraint", rule=f"Member must match the pattern {meta['pattern']}"
            )


# What a model's "max" bounds, by shape type: a string's length, a list's or map's size,
# an integer's value (botocore itself checks only "min").
_SIZES: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "string": (str, len),
    "list": ((list, tuple), len),
    "map": (dict, len),
    "integer": (int, int),
}


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value, re.DOTALL) is not None
    except re.error:  # a Java-only construct: leave it to the real service
        return True


def validate(params: dict[str, Any], shape) -> None:
    """A server's answer to parameters that break the model: one ValidationException naming
    every problem, as AWS's JSON services answer."""
    report = ServerValidator().validate(params, shape)
    if report.has_errors():
        problems = report.generate_report().splitlines()
        raise ValidationException(
            f"{len(problems)} validation error(s) detected: " + "; ".join(problems)
        )


DEFAULT_PAGE = 10


def page(
    items: list, max_results: int | None, next_token: str | None, name_of
) -> tuple[list, str | None]:
    """One page of ``items``; the token names the first item of the next page."""
    start = 0
    if next_token:
        try:
            first = base64.urlsafe_b64decode(next_token.encode()).decode()
            start = [name_of(item) for item in items].index(first)
        except ValueError as error:
            raise ValidationException("The nextToken is not valid.") from error
    size = max_results or DEFAULT_PAGE
    rest = items[start + size :]
    token = base64.urlsafe_b64encode(name_of(rest[0]).encode()).decode() if rest else None
    return items[start : start + size], token


class ModelResponse(BaseResponse):
    """An AWS service of ours, parsed, validated and serialized from botocore's model."""

    SERVICE = ""

    def __init__(self) -> None:
        super().__init__(service_name=self.SERVICE)
        self.automated_parameter_parsing = True

    def setup_class(self, request, full_url, headers, use_raw_body=False) -> None:
        """moto decodes the body as UTF-8 before anything checks it: bytes that are not
        UTF-8 are the caller's error, not a 500."""
        try:
            super().setup_class(request, full_url, headers, use_raw_body)
        except UnicodeDecodeError as error:
            raise ValidationException("The request body is not valid UTF-8.") from error

    def parse_parameters(self, request) -> None:
        """moto's parser takes any body for a JSON object and fails inside on one that is
        not (a list, a string): the caller's error, answered as one rather than a 500."""
        try:
            super().parse_parameters(request)
        except (AttributeError, TypeError, ValueError) as error:
            raise ValidationException("The request body must be a JSON object.") from error

    def call_action(self) -> Serialized:
        try:
            self._validate()
            return super().call_action()
        except AwsError as error:  # not a moto ServiceException: moto lets it through
            return error.serialized()

    def _validate(self) -> None:
        action = self._get_action()
        if not action:
            raise UnknownOperationException(f"No operation at {self.method} {self.path}.")
        if not hasattr(self, camelcase_to_underscores(action)):
            raise NotImplementedByThisBackend(f"The local backend does not implement {action}.")
        operation = get_service_model(self.SERVICE).operation_model(action)
        validate(self._as_sent(operation.input_shape), operation.input_shape)

    def _as_sent(self, shape) -> dict[str, Any]:
        """The parameters with the body's members as the caller sent them: moto's parser
        turns a string where the model wants a list into a list of its characters, which
        would pass validation and hide the caller's type error."""
        if shape.serialization.get("payload"):
            return self.params
        try:
            body = json.loads(self.body or "{}")
        except ValueError as error:
            raise ValidationException("The request body is not valid JSON.") from error
        sent = {
            name: body[member.serialization.get("name", name)]
            for name, member in shape.members.items()
            if "location" not in member.serialization
            and member.serialization.get("name", name) in body
        }
        return {**self.params, **sent}

    def paginated(self, items: list, result_key: str, name_of) -> ActionResult:
        """``items`` as a List* answer, paged by the request's maxResults and nextToken."""
        items, token = page(
            items, self._get_param("maxResults"), self._get_param("nextToken"), name_of
        )
        return ActionResult({result_key: items, "nextToken": token})


def wsgi_app(response_class: type[ModelResponse]) -> Flask:
    """A WSGI app that hands every request to ``response_class``, as moto's server does."""
    app = Flask(response_class.__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True  # to emulator.server, which logs them
    app.request_class = BackendRequest
    app.add_url_rule(
        "/<path:path>",
        endpoint="dispatch",
        view_func=convert_to_flask_response(response_class.dispatch),
        methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
    )
    return app
