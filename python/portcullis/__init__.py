"""Portcullis policies for Python.

Compile a policy once, then decide requests from many threads::

    import portcullis

    policy = portcullis.Policy.from_file("policies/flask-rbac.pcl")
    decision = policy.decide(
        {"principal": None, "action": "products.list", "resource": None,
         "context": {"headers": {"x-auth-account": "ops", "x-auth-role": "operator"}}},
        data=portcullis.Data({"accounts": [{"id": 3, "name": "ops"}],
                              "operator_group": {"ops": ["operator"]}}),
    )
    decision.allowed, decision.status, decision.filters

Only compiling and filtering raise (:class:`PolicyError`,
:class:`FilterError`). ``policy.filter(request)`` (a request without
``resource``) says which resources the request may act on: see
:mod:`portcullis.sqlalchemy` and docs/filtering.md. A request or data that does not
fit the policy's contract is a deny decision whose reason names the field.
``policy.explain(request)`` says why: ``str()`` of it is the tree
``portcullis eval --explain`` prints. The integrations are :mod:`portcullis.flask` and :mod:`portcullis.fastapi`.
"""

from ._portcullis import (
    Data,
    Decision,
    Diagnostic,
    Explanation,
    Filter,
    FilterError,
    Policy,
    PolicyError,
    Statement,
    __version__,
)

__all__ = [
    "Data",
    "Decision",
    "Diagnostic",
    "Explanation",
    "Filter",
    "FilterError",
    "Policy",
    "PolicyError",
    "Statement",
    "__version__",
]
