"""A FastAPI service guarded by the FLIP bundle (``policies/flip.pcl``).

Hub users log in with a bearer token; the routes ask the policy whether the
caller may see, change or contribute to a project and see its models.
Internal services authenticate with ``X-Internal-Service-Key`` and trusts
with their API key in ``Authorization``, each checked against a stored
SHA-256 digest. The store is in memory; a real hub reads the same rows
from its database.

Run it with ``uvicorn examples.python.flip_app:app`` (uvicorn installed).
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any, Optional

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

import portcullis
from portcullis.fastapi import Guard

POLICY_FILE = Path(__file__).resolve().parents[2] / "policies" / "flip.pcl"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Store:
    """The hub's rows: users by token, projects, models, trusts."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {
            "token-admin": {"id": "b0000000-0000-4000-8000-000000000001", "roles": ["Admin"]},
            "token-owner": {"id": "b0000000-0000-4000-8000-000000000002", "roles": ["Researcher"]},
            "token-member": {"id": "b0000000-0000-4000-8000-000000000003", "roles": ["Researcher"]},
            "token-viewer": {"id": "b0000000-0000-4000-8000-000000000004", "roles": ["Viewer"]},
            "token-stranger": {"id": "b0000000-0000-4000-8000-000000000005", "roles": ["Researcher"]},
        }
        project = "c0000000-0000-4000-8000-000000000001"
        self.projects: dict[str, dict[str, Any]] = {
            project: {
                "id": project,
                "owner_id": "b0000000-0000-4000-8000-000000000002",
                "members": ["b0000000-0000-4000-8000-000000000003", "b0000000-0000-4000-8000-000000000004"],
                "deleted": False,
            }
        }
        self.names: dict[str, str] = {project: "Chest X-ray triage"}
        self.models: dict[str, dict[str, Any]] = {}
        self.trusts: list[dict[str, Any]] = [
            {"id": "7a000000-0000-4000-8000-000000000001", "name": "Trust_1", "api_key_hash": digest("trust-one-key")},
            {"id": "7a000000-0000-4000-8000-000000000002", "name": "Trust_2", "api_key_hash": None},
        ]
        self.internal_key_hash = digest("hub-internal-key")


class ProjectUpdate(BaseModel):
    name: str


class NewModel(BaseModel):
    name: str


def create_app(store: Optional[Store] = None) -> FastAPI:
    db = store or Store()
    policy = portcullis.Policy.from_file(POLICY_FILE)

    def current_user(request: Request) -> Optional[dict[str, Any]]:
        """The logged-in user, or None: the policy answers 401 for None."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return db.users.get(token)

    def key_headers(request: Request) -> dict[str, object]:
        # The bundle reads the two key headers under their configured names;
        # ASGI delivers header names in lower case.
        headers: dict[str, object] = {}
        for name in ("X-Internal-Service-Key", "Authorization"):
            value = request.headers.get(name)
            if value is not None:
                headers[name] = value
        return {"headers": headers}

    def hub_data() -> dict[str, object]:
        return {"internal_service_key_hash": db.internal_key_hash, "trusts": db.trusts}

    users = Guard(policy, principal=current_user, context=key_headers)
    services = Guard(policy, data=hub_data, context=key_headers)

    def project(project_id: str) -> dict[str, object]:
        return {"project": db.projects.get(project_id)}

    def model(model_id: str) -> dict[str, object]:
        found = db.models.get(model_id)
        return {"model": found, "project": db.projects.get(found["project_id"]) if found else None}

    app = FastAPI(title="FLIP hub (example)")

    @app.get("/projects/{project_id}")
    async def read_project(
        project_id: str,
        decision: portcullis.Decision = Depends(users.require("access_project", resource=project)),
    ) -> dict[str, Any]:
        # A manager is allowed even where no project exists.
        if project_id not in db.projects:
            raise HTTPException(404, "No such project.")
        return {"id": project_id, "name": db.names[project_id], "decided_by": [s.id for s in decision.statements]}

    @app.put("/projects/{project_id}")
    async def rename_project(
        project_id: str,
        body: ProjectUpdate,
        decision: portcullis.Decision = Depends(users.require("modify_project", resource=project)),
    ) -> dict[str, Any]:
        if project_id not in db.projects:
            raise HTTPException(404, "No such project.")
        db.names[project_id] = body.name
        return {"id": project_id, "name": body.name}

    @app.post("/projects/{project_id}/models", status_code=201)
    async def add_model(
        project_id: str,
        body: NewModel,
        request: Request,
        decision: portcullis.Decision = Depends(users.require("contribute_to_project", resource=project)),
    ) -> dict[str, Any]:
        if project_id not in db.projects:
            raise HTTPException(404, "No such project.")
        user = current_user(request) or {}
        model_id = str(uuid.uuid4())
        db.models[model_id] = {"id": model_id, "owner_id": user["id"], "project_id": project_id}
        return {"id": model_id, "name": body.name, "project_id": project_id}

    @app.get("/models/{model_id}")
    async def read_model(
        model_id: str,
        decision: portcullis.Decision = Depends(users.require("access_model", resource=model)),
    ) -> dict[str, Any]:
        if model_id not in db.models:
            raise HTTPException(404, "No such model.")
        return db.models[model_id]

    @app.get("/internal/status")
    async def internal_status(
        decision: portcullis.Decision = Depends(services.require("authenticate_internal_service")),
    ) -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/trust/identity")
    async def trust_identity(
        decision: portcullis.Decision = Depends(services.require("authenticate_trust")),
    ) -> dict[str, Any]:
        return {"trust": decision.principal}

    return app


app = create_app()
