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

Only compiling raises (:class:`PolicyError`). A request or data that does not
fit the policy's contract is a deny decision whose reason names the field.
The integrations are :mod:`portcullis.flask` and :mod:`portcullis.fastapi`.
"""

from ._portcullis import (
    Data,
    Decision,
    Diagnostic,
    Policy,
    PolicyError,
    Statement,
    __version__,
)

__all__ = [
    "Data",
    "Decision",
    "Diagnostic",
    "Policy",
    "PolicyError",
    "Statement",
    "__version__",
]
