"""The monitors' JSON API under ``/api/v1/``: bearer tokens for one desk, the routes, and
the OpenAPI document that describes them."""

MAX_QUEUE_LIMIT = 100  # reports per page of GET /api/v1/queue
