"""Encrypted backups of the database in the age file format, and their verified restore.

An archive is ``age(tar(payload/000000 ... payload/NNNNNN, manifest.json))``: the database dump
(``pg_dump`` custom format, or a SQLite file copied with the online backup API) cut into parts,
then a manifest naming the database kind, schema revision, day, byte count and SHA-256 of the
payload. See FORMAT.md in this folder for the layout and how to open an archive by hand.
"""
