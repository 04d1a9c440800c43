"""The workshop's local backend: an offline stand-in for every AWS API the workshop uses.

One process, one port on 127.0.0.1. moto serves the AWS services it knows; our own
handlers, mounted in front of it, add what moto lacks or gets wrong for this workshop.
Clients reach it only over HTTP, exactly as they would reach AWS.
"""
