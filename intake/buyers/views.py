"""Buyer portal pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from intake.accounts.guard import buyer_required, signed_in

buyer = Blueprint("buyer", __name__, url_prefix="/buyer")


@buyer.get("/")
@buyer_required
def home() -> ResponseReturnValue:
    return render_template("buyer/home.html", account=signed_in().account)
