"""KMS operation handlers, one function per operation, grouped by area.

Each handler is ``handler(ctx, params) -> response dict | None``, named after its operation in
snake case (``ReEncrypt`` -> ``re_encrypt``), in the area module its catalogue row names
(``_catalogue.Operation.area``). The dispatcher loads them on the first request; handlers import
nothing from the dispatcher, and take their keys from ``ctx.key()`` (``_context``).
"""
