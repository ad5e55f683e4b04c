"""gunicorn's access log masked like every other log: request paths and query strings carry ID
numbers and phones (e.g. /api/registry/persons/<ID number>). Used by `yiwang serve`."""

from gunicorn.glogging import Logger

from yiwang.core.masking import mask_text


class MaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_text(value) if isinstance(value, str) else value for key, value in atoms.items()}
