"""The AWS error codes our own services raise; moto serializes them from the model."""

from moto.core.exceptions import ServiceException


class ValidationException(ServiceException):
    code = "ValidationException"


class ConflictException(ServiceException):
    code = "ConflictException"


class ResourceNotFoundException(ServiceException):
    code = "ResourceNotFoundException"


class AccessDeniedException(ServiceException):
    code = "AccessDeniedException"


class UnauthorizedException(ServiceException):
    code = "UnauthorizedException"


class InternalServerException(ServiceException):
    code = "InternalServerException"
