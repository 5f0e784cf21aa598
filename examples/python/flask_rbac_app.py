"""A Flask service guarded by the flask-rbac bundle, on SQLite through SQLAlchemy.

The gateway puts the caller's account, role and user into ``x-auth-*``
headers; ``policies/flask-rbac.pcl`` turns them into a decision, and list
endpoints are scoped by the decision's row filters, as flask-rbac's
``Model.filtered(subject)`` does.

Run it with ``flask --app examples/python/flask_rbac_app.py run`` and ask::

    curl -H 'x-auth-account: valid_account' -H 'x-auth-role: member' \\
         -H 'x-auth-user: owner' localhost:5000/products
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from flask import Flask, jsonify, request
from sqlalchemy import ForeignKey, String, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool
from werkzeug.exceptions import HTTPException

import portcullis
from portcullis.flask import Guard, scoped

POLICY_FILE = Path(__file__).resolve().parents[2] / "policies" / "flask-rbac.pcl"

# Accounts whose requested roles the gateway grants as `operator`
# (`RbacAccount.get_role` and `is_operator` in the seed).
OPERATOR_GROUP: dict[str, list[str]] = {"devel": ["admin"], "ops": ["operator"]}


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    owner: Mapped[Optional[str]] = mapped_column(String(64))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "account_id": self.account_id, "owner": self.owner}


class Invoice(Base):
    """`billing.invoices`: scoped by the account's name and the creator."""

    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[Optional[str]] = mapped_column(String(64))
    amount: Mapped[int]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "account": self.account, "created_by": self.created_by, "amount": self.amount}


def seed(engine: Engine) -> None:
    """The bundle's accounts and a few rows in each of them."""
    with Session(engine) as s:
        s.add_all(
            [
                Account(id=1, name="valid_account"),
                Account(id=2, name="devel"),
                Account(id=3, name="ops"),
                Product(id=1, name="lamp", account_id=1, owner="owner"),
                Product(id=2, name="desk", account_id=1, owner="someone_else"),
                Product(id=3, name="chair", account_id=2, owner="owner"),
                Product(id=4, name="shelf", account_id=1, owner=None),
                Invoice(id=1, account="valid_account", created_by="owner", amount=120),
                Invoice(id=2, account="valid_account", created_by="clerk", amount=80),
                Invoice(id=3, account="devel", created_by="owner", amount=45),
            ]
        )
        s.commit()


def create_app(database_url: str = "sqlite://") -> Flask:
    engine = create_engine(database_url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        if s.scalar(select(Account).limit(1)) is None:
            seed(engine)

    policy = portcullis.Policy.from_file(POLICY_FILE)

    def rbac_data() -> dict[str, object]:
        # `RbacAccount.get_by_name`: only the named account is read.
        name = request.headers.get("x-auth-account", "")
        with Session(engine) as s:
            rows = s.scalars(select(Account).where(Account.name == name)).all()
            return {"accounts": [a.as_dict() for a in rows], "operator_group": OPERATOR_GROUP}

    rbac = Guard(policy, data=rbac_data)
    app = Flask(__name__)

    @app.errorhandler(HTTPException)
    def as_json(e: HTTPException) -> tuple[Any, int]:
        return jsonify(error=e.description), e.code or 500

    @app.get("/products")
    @rbac.allow("products.list")
    def list_products(decision: portcullis.Decision) -> Any:
        with Session(engine) as s:
            rows = s.scalars(scoped(select(Product), decision).order_by(Product.id)).all()
            return jsonify([p.as_dict() for p in rows])

    @app.post("/products")
    @rbac.allow("products.create")
    def create_product(decision: portcullis.Decision) -> Any:
        subject = decision.principal or {}
        body = request.get_json(silent=True) or {}
        with Session(engine) as s:
            product = Product(name=str(body.get("name", "")), account_id=subject["account_id"], owner=subject["owner"])
            s.add(product)
            s.commit()
            return jsonify(product.as_dict()), 201

    @app.delete("/products/<int:product_id>")
    @rbac.allow("products.delete")
    def delete_product(product_id: int, decision: portcullis.Decision) -> Any:
        with Session(engine) as s:
            product = s.scalar(scoped(select(Product), decision).where(Product.id == product_id))
            if product is None:
                return jsonify(error="no such product"), 404
            s.delete(product)
            s.commit()
            return jsonify(deleted=product_id)

    @app.get("/accounts")
    @rbac.allow("accounts.list")
    def list_accounts(decision: portcullis.Decision) -> Any:
        with Session(engine) as s:
            rows = s.scalars(scoped(select(Account), decision).order_by(Account.id)).all()
            return jsonify([a.as_dict() for a in rows])

    @app.get("/accounts/<int:account_id>")
    @rbac.allow("accounts.get")
    def get_account(account_id: int, decision: portcullis.Decision) -> Any:
        with Session(engine) as s:
            account = s.scalar(scoped(select(Account), decision).where(Account.id == account_id))
            if account is None:
                return jsonify(error="no such account"), 404
            return jsonify(account.as_dict())

    @app.get("/billing/invoices")
    @rbac.allow("billing.invoices.list")
    def list_invoices(decision: portcullis.Decision) -> Any:
        with Session(engine) as s:
            rows = s.scalars(scoped(select(Invoice), decision).order_by(Invoice.id)).all()
            return jsonify([i.as_dict() for i in rows])

    return app


app = create_app()
