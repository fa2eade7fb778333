"""Baselines for bench/sms.py, served by gunicorn exactly like the real app.

``/bare`` answers fixed TwiML (what Flask alone costs); ``/insert`` also INSERTs one small
row into PostgreSQL and COMMITs (the least durable work a webhook must do).
"""

from __future__ import annotations

import os

from flask import Flask, Response
from sqlalchemy import create_engine, text

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'
engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=4)
app = Flask("baseline")


@app.post("/bare")
def bare() -> Response:
    return Response(TWIML, mimetype="application/xml")


@app.post("/insert")
def insert() -> Response:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO bench_rows (payload) VALUES (:p)"), {"p": "x" * 40})
    return Response(TWIML, mimetype="application/xml")
