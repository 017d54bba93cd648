"""Operations: typed requests and their Qt-free run functions (see core.ops.base)."""

from core.ops.base import OpContext, Request, operation, run_request

__all__ = ["OpContext", "Request", "operation", "run_request"]
