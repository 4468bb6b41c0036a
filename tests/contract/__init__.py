"""Tests of the API contract: OpenAPI document, schemathesis, generated clients."""
