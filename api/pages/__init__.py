"""Server-rendered pages (Jinja2 + a vendored htmx): the trader desk, the merchant cabinet,
the Connect app and a minimal admin, on the same services as the JSON API."""
