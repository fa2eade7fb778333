"""Typed access to what ``create_app`` attached to the app (settings, database, job queue)."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session

from intake.db import Database
from intake.jobs import JobQueue
from intake.settings import Settings


def settings_of(app: Flask | None = None) -> Settings:
    settings: Settings = (app or current_app).extensions["intake.settings"]
    return settings


def database_of(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions["intake.db"]
    return database


def jobs_of(app: Flask | None = None) -> JobQueue:
    queue: JobQueue = (app or current_app).extensions["intake.jobs"]
    return queue


def db_session(app: Flask | None = None) -> Session:
    """This request's database session (the scoped session's current one)."""
    return database_of(app).session()
