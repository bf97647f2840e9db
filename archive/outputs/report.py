"""The ingest report: what an organiser must look at after an ingest."""

from __future__ import annotations

from typing import Any

from archive.catalog.database import Catalog, stored_json
from archive.fsnames import readable
from archive.outputs.itemjson import camera_label, require_ids


def _rows(catalog: Catalog, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    """Rows as dicts, files named as shown (`caf\\xe9.jpg` for a name not UTF-8)."""
    rows = [dict(row) for row in catalog.query(sql, params)]
    for row in rows:
        for key in ("path", "original"):
            if isinstance(row.get(key), str):
                row[key] = readable(row[key])
    return rows


def unmatched_media(catalog: Catalog, event_id: str | None = None) -> list[dict[str, Any]]:
    """[[media]] entries naming no file, as the last resolution of each event found them."""
    scope, params = ("WHERE id = ?", (event_id,)) if event_id else ("", ())
    found = []
    for event in catalog.query(f"SELECT id, manifest FROM events {scope} ORDER BY id", params):
        for entry in stored_json(catalog.get_meta(f"unmatched_media:{event['id']}") or "[]"):
            found.append({"event": event["id"], "event_file": event["manifest"], **entry})
    return found


def unmatched_line(row: dict[str, Any]) -> str:
    where = f"{row['event_file']}: media[path={row['path']!r}]"
    if row.get("duplicate_of"):
        return (f"{where}: names a copy of {row['duplicate_of']}, which is the item (a copy "
                "is not an item of its own); describe that file, in the event file of its "
                "folder")
    if row["suggestion"]:
        hint = f"; did you mean {row['suggestion']!r}?"
    elif any(c in row["path"] for c in "*?["):
        hint = " ([[media]] paths are exact; globs work in [[credit.rules]] match)"
    else:
        hint = " (a path relative to the event folder, exactly as the file is named)"
    return f"{where}: matches no file{hint}"


def build_report(catalog: Catalog, event_id: str | None = None) -> dict[str, Any]:
    """Errors, warnings, missing files, duplicates and items lacking credit or session."""
    if event_id:
        require_ids(catalog, event=event_id)
    scope, params = ("AND event_id = ?", (event_id,)) if event_id else ("", ())
    # Each table names the event its own way: events by id, items through the alias i.
    event_scope = scope.replace("event_id", "id")
    item_scope = scope.replace("event_id", "i.event_id")
    return {
        "events": _rows(catalog, f"SELECT id, title, folder FROM events WHERE 1=1 "
                        f"{event_scope} ORDER BY id", params),
        "counts": _rows(catalog, f"SELECT event_id AS event, kind, COUNT(*) AS items FROM "
                        f"items WHERE 1=1 {scope} GROUP BY event_id, kind ORDER BY 1, 2",
                        params),
        "errors": _rows(catalog, "SELECT path, stage, message, event_id AS event FROM errors "
                        f"WHERE level = 'error' {scope} ORDER BY path, stage", params),
        "warnings": _rows(catalog, "SELECT path, stage, message, event_id AS event FROM "
                          f"errors WHERE level = 'warning' {scope} ORDER BY path, stage",
                          params),
        "missing": _rows(catalog, "SELECT path, item_id AS item, event_id AS event FROM files "
                         f"WHERE state = 'missing' AND role = 'media' {scope} ORDER BY path",
                         params),
        # A copy belongs to the report of the event whose folder holds it.
        "duplicates": _rows(catalog, "SELECT f.path, i.path AS original, i.id AS item FROM "
                            "files f JOIN items i ON i.id = f.item_id WHERE f.role = 'media' "
                            f"AND f.state = 'present' AND f.path != i.path "
                            f"{scope.replace('event_id', 'f.event_id')} ORDER BY f.path",
                            params),
        "without_creator": _rows(catalog, "SELECT i.path, i.id AS item FROM items i WHERE NOT "
                                 "EXISTS (SELECT 1 FROM credits c WHERE c.item_id = i.id AND "
                                 f"c.field = 'creator') {item_scope} ORDER BY i.path", params),
        "without_session": _rows(catalog, "SELECT i.path, i.id AS item FROM items i WHERE NOT "
                                 "EXISTS (SELECT 1 FROM tags t WHERE t.item_id = i.id AND "
                                 f"t.kind = 'session') {item_scope} ORDER BY i.path", params),
        "ambiguous": _rows(catalog, "SELECT i.path, i.id AS item, json_extract(i.resolved, "
                           "'$.ambiguous') AS sessions FROM items i WHERE json_array_length("
                           f"i.resolved, '$.ambiguous') > 0 {item_scope} ORDER BY i.path",
                           params),
        "unknown_cameras": _rows(
            catalog, "SELECT i.event_id AS event, json_extract(i.metadata, '$.camera.make') AS "
            "make, json_extract(i.metadata, '$.camera.model') AS model, json_extract("
            "i.metadata, '$.camera.serial') AS serial, COUNT(*) AS items FROM items i WHERE "
            "json_extract(i.metadata, '$.camera.model') IS NOT NULL AND NOT COALESCE("
            f"json_extract(i.resolved, '$.camera_known'), 0) {item_scope} "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", params),
        "dated_by_file": _rows(catalog, "SELECT i.path, i.id AS item FROM items i WHERE "
                               "json_extract(i.resolved, '$.taken_source') = 'file' "
                               f"{item_scope} ORDER BY i.path", params),
        "unmatched_media": unmatched_media(catalog, event_id),
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as text for a terminal: a heading per non-empty list."""
    lines = []
    for count in report["counts"]:
        lines.append(f"{count['event']}: {count['items']} {count['kind']} item(s)")
    titles = {"errors": "Errors", "warnings": "Warnings", "missing": "Missing files",
              "duplicates": "Duplicates", "without_creator": "Items without a creator",
              "without_session": "Items without a session",
              "dated_by_file": "Items dated only by their file's modification time",
              "ambiguous": "Items between parallel sessions (add the camera's room)"}
    for key, title in titles.items():
        rows = report[key]
        if not rows:
            continue
        lines.append(f"\n{title} ({len(rows)}):")
        for row in rows:
            detail = row.get("message") or (f"copy of {row['original']}"
                                            if "original" in row else "")
            stage = f"[{row['stage']}] " if "stage" in row else ""
            if key == "ambiguous":
                detail = "could be " + " or ".join(stored_json(row["sessions"]))
            lines.append(f"  {row['path']}: {stage}{detail}".rstrip(": "))
    if report["unmatched_media"]:
        lines.append(f"\n[[media]] entries that apply to no item "
                     f"({len(report['unmatched_media'])}):")
        lines += [f"  {unmatched_line(row)}" for row in report["unmatched_media"]]
    if report["unknown_cameras"]:
        lines.append(f"\nCameras not in the event file ({len(report['unknown_cameras'])}); "
                     "add them as [[cameras]] with clock_offset and room:")
        for cam in report["unknown_cameras"]:
            serial = f", serial {cam['serial']}" if cam["serial"] else ""
            lines.append(f"  {cam['event']}: {camera_label(cam)}{serial} "
                         f"({cam['items']} items)")
    return lines
