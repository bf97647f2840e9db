"""Naming faces on the desk: the clusters, each with sample faces, its suggestion and
why, and buttons that confirm, name or reject it as `faces name`/`faces reject` do.

Sample faces are cut from any item's thumbnail, withheld ones too, by a route of this
blueprint alone (a curator's session, never stored); the public face pictures stay
those of published items.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from archive import settings
from archive.catalog import people_names
from archive.ingest.curation import cluster_states, name_cluster
from archive.ingest.naming import Confirmed
from archive.outputs.facelist import face_clusters

from ..faces import MAX_FACE_NUMBER, cut_face, face_source
from ..searching import int_arg
from .access import curator
from .blueprint import bp
from .forms import FormInvalid
from .reading import curator_archive
from .writes import REFUSED, Refusal, refusal, write

MAX_CLUSTER = 2**63 - 1  # SQLite's largest integer; a larger number is no cluster

ACTIONS = ("name", "reject")
_PERSON = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


def _clusters(show_all: bool, page: int) -> tuple[list[dict[str, Any]], int]:
    """One page of clusters (those awaiting a name, unless `show_all`), largest first,
    and how many there are."""
    found = face_clusters(curator_archive().catalog)
    if not show_all:
        found = [c for c in found if c["person"] is None]
    per = settings.value("curate_list")
    return found[(page - 1) * per:page * per], len(found)


def _people(clusters: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """The people of each event the clusters are in, (id, name) by name."""
    catalog = curator_archive().catalog
    events = {e for c in clusters for e in c["events"]}
    return {e: sorted(people_names(catalog, e).items(), key=lambda p: (p[1].casefold(), p[0]))
            for e in events}


def _page(status: int = 200, refused: Refusal | None = None, cluster: int | None = None
          ) -> tuple[str, int]:
    show_all = request.args.get("show") == "all"
    page = int_arg("page", 1, 1, 10**6)
    clusters, total = _clusters(show_all, page)
    per = settings.value("curate_list")
    return render_template(
        "curate/faces.html", clusters=clusters, total=total, page=page,
        pages=max(1, -(-total // per)), show_all=show_all, people=_people(clusters),
        states=cluster_states(curator_archive().catalog), refused=refused,
        refused_cluster=cluster), status


@bp.get("/faces")
def faces() -> tuple[str, int]:
    return _page()


@bp.get(f"/faces/<item_id>/<int(min=1, max={MAX_FACE_NUMBER}):number>.jpg")
def face_picture(item_id: str, number: int) -> Response:
    """Face `number` of any item (withheld ones too), cut for the desk and never kept:
    the public face pictures in thumbs/faces/ are of published items only."""
    data = cut_face(face_source(curator_archive(), item_id, number))
    return Response(data, mimetype="image/jpeg")


def _choice() -> tuple[str, str, str]:
    """The action, person and cluster state a naming form sends; FormInvalid if wrong."""
    action = request.form.get("action", "")
    person = request.form.get("person", "").strip()
    errors = {}
    if action not in ACTIONS:
        errors["action"] = "choose name or reject"
    if not _PERSON.match(person):
        errors["person"] = "choose a person of the event"
    if errors:
        raise FormInvalid(errors)
    return action, person, request.form.get("state", "")


@bp.post(f"/faces/<int(min=1, max={MAX_CLUSTER}):cluster>")
def name_faces(cluster: int) -> Any:
    try:
        action, person, state = _choice()
        name = curator() or "curator"
        done, index_problem = write(lambda catalog: name_cluster(
            catalog, cluster, person, action == "reject", state, name))
    except REFUSED as exc:
        found = refusal(exc)
        return _page(found.status, found, cluster)
    flash(_named_message(cluster, person, action, done, index_problem))
    return redirect(url_for("curate.faces", show=request.args.get("show"),
                            _anchor=f"cluster-{cluster}"), code=303)


def _named_message(cluster: int, person: str, action: str, done: list[Confirmed],
                   index_problem: str | None) -> str:
    verb = "named" if action == "name" else "rejected for"
    files = "; ".join(f"{d.added} of {d.faces} faces added to {d.key} in {d.event_file}, "
                      f"{d.resolved} item(s) changed" for d in done)
    said = f"Cluster {cluster} {verb} {person}: {files}."
    return f"{said} But {index_problem}" if index_problem else said
