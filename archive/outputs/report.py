"""The ingest report: what an organiser must look at after an ingest."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from archive.catalog import (
    Catalog,
    ambiguous_items,
    copies,
    dated_by_file,
    face_refs,
    faces_named,
    items_without,
    kind_counts,
    license_conflicts,
    list_events,
    missing_files,
    problems_of_kind,
    third_party_items,
    unknown_cameras,
    withheld_items,
)
from archive.catalog import unmatched_media as catalog_unmatched
from archive.fsnames import readable
from archive.outputs.itemjson import camera_label, require_ids


def _shown(rows: list[Any]) -> list[dict[str, Any]]:
    """Records as the report's rows, files named as shown (`caf\\xe9.jpg` for a name
    not UTF-8)."""
    found = [dataclasses.asdict(row) for row in rows]
    for row in found:
        for key in ("path", "original"):
            if isinstance(row.get(key), str):
                row[key] = readable(row[key])
    return found


def unmatched_media(catalog: Catalog, event_id: str | None = None) -> list[dict[str, Any]]:
    """[[media]] entries naming no file, as the last resolution of each event found them."""
    return [{"event": event.id, "event_file": event.manifest, **entry}
            for event in list_events(catalog, event_id)
            for entry in catalog_unmatched(catalog, event.id)]


def unmatched_faces(catalog: Catalog, event_id: str | None = None) -> list[dict[str, Any]]:
    """Faces the event files name (`faces`, `not_faces`) that the catalog has no face
    for: a file not ingested, moved, changed, or a face number past its faces."""
    rows = []
    for event in list_events(catalog, event_id):
        for key in ("faces", "not_faces"):
            refs = face_refs(catalog, event.id, key)
            known, _ = faces_named(catalog, event.id, [p for r in refs.values() for p, _ in r])
            rows += [{"event": event.id, "event_file": event.manifest, "person": person,
                      "key": key, "face": f"{path}#{number}"}
                     for person, found in refs.items() for path, number in found
                     if (path, number) not in known]
    return rows


def _problem_rows(catalog: Catalog, kind: str, event_id: str | None) -> list[dict[str, Any]]:
    return [{"path": readable(p.path), "stage": p.stage, "message": p.message,
             "event": p.event, "kind": p.kind}
            for p in problems_of_kind(catalog, kind, event_id)]


def _ambiguous(catalog: Catalog, event_id: str | None) -> list[dict[str, Any]]:
    # The sessions as the JSON text they always were here: ids, so compact JSON is
    # exactly what SQLite's json_extract gave.
    return [{"path": readable(a.path), "item": a.item,
             "sessions": json.dumps(a.sessions, separators=(",", ":"))}
            for a in ambiguous_items(catalog, event_id)]


def unmatched_line(row: dict[str, Any]) -> str:
    where = f"{row['event_file']}: media[path={row['path']!r}]"
    if row.get("duplicate_of"):
        return (f"{where}: names a copy of {row['duplicate_of']}, which is the item (a copy "
                "is not an item of its own); describe that file, in the event file of its "
                "folder")
    if row["suggestion"]:
        hint = f"; did you mean {row['suggestion']!r}?"
    elif any(c in row["path"] for c in "*?["):
        hint = (" (a glob; '*' stays inside one folder, '**' spans folders)"
                if any(c in row["path"] for c in "*?") else
                " ([[media]] paths are exact; globs, with * or ?, give only publish)")
    else:
        hint = " (a path relative to the event folder, exactly as the file is named)"
    return f"{where}: matches no file{hint}"


def build_report(catalog: Catalog, event_id: str | None = None) -> dict[str, Any]:
    """Errors, warnings, missing files, duplicates and items lacking credit or session."""
    if event_id:
        require_ids(catalog, event=event_id)
    return {
        "events": [{"id": e.id, "title": e.title, "folder": e.folder}
                   for e in list_events(catalog, event_id)],
        "counts": _shown(kind_counts(catalog, event_id)),
        "errors": _problem_rows(catalog, "error", event_id),
        "warnings": _problem_rows(catalog, "warning", event_id),
        "missing": _shown(missing_files(catalog, event_id)),
        "duplicates": _shown(copies(catalog, event_id)),
        "without_creator": _shown(items_without(catalog, "creator", event_id)),
        "without_session": _shown(items_without(catalog, "session", event_id)),
        "ambiguous": _ambiguous(catalog, event_id),
        "unknown_cameras": _shown(unknown_cameras(catalog, event_id)),
        "dated_by_file": _shown(dated_by_file(catalog, event_id)),
        "unmatched_media": unmatched_media(catalog, event_id),
        "unmatched_faces": unmatched_faces(catalog, event_id),
        "withheld": _shown(withheld_items(catalog, event_id)),
        "third_party": _shown(third_party_items(catalog, event_id)),
        "license_conflicts": _shown(license_conflicts(catalog, event_id)),
    }


def third_party_line(row: dict[str, Any]) -> str:
    """'path: creator (xmp) names Ian Britton; copyright (iptc) names …'."""
    named = "; ".join(f"{n['field']} ({n['source']}) says {n['value']!r}"
                      for n in row["names"])
    return f"{row['path']}: {named}"


def conflict_line(row: dict[str, Any]) -> str:
    return (f"{row['path']}: the file says {row['embedded']}, the event "
            f"({row['event_source']}) says {row['event_license']}; it carries "
            f"{row['license']}")


def _rights_lines(report: dict[str, Any]) -> list[str]:
    """The third-party items and licence conflicts, with what to do about them."""
    lines = []
    if report["third_party"]:
        lines.append(f"\nThird-party items ({len(report['third_party'])}): they keep their "
                     "own rights; the event's organisation and licence are not given to "
                     "them (declare their creator in [[people]], or decide in [[media]] or a "
                     "rule with force = true):")
        lines += [f"  {third_party_line(row)}" for row in report["third_party"]]
    if report["license_conflicts"]:
        lines.append(f"\nLicence conflicts ({len(report['license_conflicts'])}):")
        lines += [f"  {conflict_line(row)}" for row in report["license_conflicts"]]
    return lines


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as text for a terminal: a heading per non-empty list."""
    lines = []
    for count in report["counts"]:
        lines.append(f"{count['event']}: {count['items']} {count['kind']} item(s)")
    titles = {"errors": "Errors", "warnings": "Warnings", "missing": "Missing files",
              "duplicates": "Duplicates", "without_creator": "Items without a creator",
              "without_session": "Items without a session",
              "dated_by_file": "Items dated only by their file's modification time",
              "ambiguous": "Items between parallel sessions (add the camera's room)",
              "withheld": "Withheld from the site and exports (kept in the archive)"}
    for key, title in titles.items():
        rows = report[key]
        if not rows:
            continue
        lines.append(f"\n{title} ({len(rows)}):")
        for row in rows:
            detail = row.get("message") or row.get("reason") or (f"copy of {row['original']}"
                                            if "original" in row else "")
            stage = f"[{row['stage']}] " if "stage" in row else ""
            if key == "ambiguous":
                detail = "could be " + " or ".join(json.loads(row["sessions"]))
            lines.append(f"  {row['path']}: {stage}{detail}".rstrip(": "))
    if report["unmatched_media"]:
        lines.append(f"\n[[media]] entries that apply to no item "
                     f"({len(report['unmatched_media'])}):")
        lines += [f"  {unmatched_line(row)}" for row in report["unmatched_media"]]
    if report["unmatched_faces"]:
        lines.append(f"\nFaces the event file names that no item has "
                     f"({len(report['unmatched_faces'])}); see 'event-archive faces':")
        lines += [f"  {r['event_file']}: people[id={r['person']!r}].{r['key']}: "
                  f"{r['face']!r} is no face of a file of the event" for r in
                  report["unmatched_faces"]]
    lines += _rights_lines(report)
    if report["unknown_cameras"]:
        lines.append(f"\nCameras not in the event file ({len(report['unknown_cameras'])}); "
                     "add them as [[cameras]] with clock_offset and room:")
        for cam in report["unknown_cameras"]:
            serial = f", serial {cam['serial']}" if cam["serial"] else ""
            lines.append(f"  {cam['event']}: {camera_label(cam)}{serial} "
                         f"({cam['items']} items)")
    return lines
