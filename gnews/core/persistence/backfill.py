"""Filling in derived fields that documents written by an older release lack.

A document class with derived fields (values computed from its other fields so that a query
shape is served from an index, e.g. a news item's ``sort_key``) declares them with two class
attributes:

* ``derived_fields``: the names of the derived fields; the first marks a document as done;
* ``derive(document: Mapping) -> dict``: their values, computed from the stored document.

:func:`backfill_derived_fields` runs at start-up and in ``gnews db indexes``: it finds the
documents without the marker field and ``$set`` s their derived fields, in chunks. Documents
that have it are left alone, so running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from beanie import Document
from pymongo import UpdateOne

log = structlog.get_logger(__name__)

CHUNK = 500


async def backfill_derived_fields(models: Sequence[type[Document]]) -> int:
    """``$set`` the derived fields of every document of ``models`` lacking them; how many."""
    total = 0
    for model in models:
        fields = getattr(model, "derived_fields", ())
        if not fields:
            continue
        collection = model.get_pymongo_collection()
        missing = {fields[0]: {"$exists": False}}
        done = 0
        while True:
            documents = await collection.find(missing).limit(CHUNK).to_list()
            if not documents:
                break
            await collection.bulk_write(
                [
                    UpdateOne(
                        {"_id": document["_id"]},
                        {"$set": model.derive(document)},
                    )
                    for document in documents
                ],
                ordered=False,
            )
            done += len(documents)
        if done:
            log.info("derived fields filled in", collection=collection.name, documents=done)
        total += done
    return total
