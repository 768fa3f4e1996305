"""Deploy-time errors: one record per problem, located by file, element id and line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeployError:
    """One problem found while validating a deploy.

    file:       the file name as given in the deploy (or as pulled in / referenced), None when
                the problem concerns the deploy as a whole
    element_id: the BPMN/DMN element's id when the problem is about an element, else None
    line:       1-based line in ``file`` (lxml ``sourceline`` of the element, or the parser's
                line for XML/XSD/JSON syntax errors), else None
    message:    a readable sentence for the modeller; never a stack trace
    """

    file: str | None
    element_id: str | None
    line: int | None
    message: str

    def to_dict(self) -> dict:
        """``{file, element_id, line, message}``, JSON-safe."""
        return {'file': self.file, 'element_id': self.element_id, 'line': self.line,
                'message': self.message}

    def __str__(self) -> str:
        where = self.file or '<deploy>'
        if self.line is not None:
            where += f':{self.line}'
        if self.element_id:
            where += f' [{self.element_id}]'
        return f'{where}: {self.message}'


class DeployValidationError(Exception):
    """Raised where a caller needs a parsed definition and the files are not valid.

    ``errors`` holds every DeployError found (at least one); ``str()`` summarises them.
    """

    def __init__(self, errors: list[DeployError]):
        self.errors = list(errors)
        super().__init__(self._summary())

    def _summary(self) -> str:
        if not self.errors:
            return 'invalid definition'
        head = '; '.join(str(e) for e in self.errors[:3])
        more = len(self.errors) - 3
        return head + (f' (and {more} more)' if more > 0 else '')
