"""Process definitions: parse and validate BPMN/DMN bundles before they are stored.

``validate_bundle(files, ...)`` checks a deploy and says what to store; ``load_specs(files,
process_id)`` turns a stored version back into SpiffWorkflow specs; ``build_parser(files)``
gives the underlying SpiffBpmnParser.
"""

from .errors import DeployError, DeployValidationError
from .parsing import build_parser, load_specs
from .validate import Bundle, ProcessInfo, validate_bundle

__all__ = ['Bundle', 'DeployError', 'DeployValidationError', 'ProcessInfo', 'build_parser',
           'load_specs', 'validate_bundle']
