"""Credit exports: CSV, JSON, JSON-LD (schema.org) and an HTML credits page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from importlib import resources
from itertools import groupby
from typing import Any

from archive.resolve.licensetext import license_url

__all__ = ["license_url"]  # where the exports and the site have always found it

FORMATS = ("csv", "json", "jsonld", "html")
FIELDS = ("creator", "organisation", "project", "copyright", "license", "acquire_license_page")
# Columns are only ever added, at the end.
CSV_COLUMNS = ("id", "file", "kind", "title", "session", *FIELDS, "credit_line",
               *(f"{f}_source" for f in FIELDS), "license_url", "item_url", "third_party",
               "license_conflict")
_SCHEMA_TYPE = {"photo": "ImageObject", "video": "VideoObject", "audio": "AudioObject"}


def item_url(item_id: str, base_url: str | None) -> str | None:
    """The item's page on the site: under `base_url` ('' for site-relative), else None."""
    return None if base_url is None else f"{base_url.rstrip('/')}/items/{item_id}"


def _third_party(credit: dict[str, Any]) -> str | None:
    """'creator (xmp): Ian Britton; copyright (iptc): …', or None."""
    named = credit.get("third_party") or []
    return "; ".join(f"{n['field']} ({n['source']}): {n['value']}" for n in named) or None


def _conflict(credit: dict[str, Any]) -> str | None:
    found = credit.get("license_conflict")
    if not found:
        return None
    return f"file says {found['embedded']}, event says {found['event_license']}"


def credit_row(item: dict[str, Any], base_url: str | None = None) -> dict[str, Any]:
    """One flat row per item: what every format is made from; the item page's URL is
    under `base_url` ('' for site-relative URLs; None: no page known)."""
    credit = item.get("credit") or {}
    sources = credit.get("sources") or {}
    row = {"id": item["id"], "file": item["relpath"], "kind": item["kind"],
           "title": item.get("title"),
           "session": " ".join(s["id"] for s in item.get("sessions") or []),
           "credit_line": credit.get("line"), "path": item.get("path")}
    for name in FIELDS:
        row[name] = credit.get(name)
        row[f"{name}_source"] = sources.get(name)
    row.update(license_url=license_url(row["license"]),
               item_url=item_url(item["id"], base_url), third_party=_third_party(credit),
               license_conflict=_conflict(credit),
               # As item JSON has them, for the JSON export; CSV takes the texts above.
               third_party_named=credit.get("third_party") or [],
               license_conflict_found=credit.get("license_conflict"))
    return row


# A cell starting with one of these is run as a formula by spreadsheets (OWASP: CSV
# injection); metadata from cameras, editors and event files can start with any of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text a spreadsheet shows as text: a leading quote before a formula start."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """CSV of `rows` as every CSV of the project is written: a header of the plain column
    names, then every field quoted, texts neutralised by spreadsheet_safe, None empty."""
    out = io.StringIO()
    out.write(",".join(columns) + "\n")  # our own identifiers: nothing to quote
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore",
                            lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerows({k: "" if v is None else spreadsheet_safe(v) for k, v in row.items()}
                     for row in rows)
    return out.getvalue()


def to_csv(rows: list[dict[str, Any]]) -> str:
    return csv_text(rows, CSV_COLUMNS)


def to_json(rows: list[dict[str, Any]]) -> str:
    items = [{"id": r["id"], "file": r["file"], "kind": r["kind"], "title": r["title"],
              "session": r["session"] or None, "credit_line": r["credit_line"],
              "credit": {f: r[f] for f in FIELDS},
              "sources": {f: r[f"{f}_source"] for f in FIELDS if r[f"{f}_source"]},
              "license_url": r["license_url"], "item_url": r["item_url"],
              "third_party": r["third_party_named"],
              "license_conflict": r["license_conflict_found"]}
             for r in rows]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def _agent(row: dict[str, Any]) -> dict[str, Any] | None:
    org = {"@type": "Organization", "name": row["organisation"]} if row["organisation"] \
        else None
    if row["creator"]:
        person: dict[str, Any] = {"@type": "Person", "name": row["creator"]}
        if org:
            person["affiliation"] = org
        return person
    return org


def jsonld_object(row: dict[str, Any], content_url: str | None = None) -> dict[str, Any]:
    """A schema.org ImageObject/VideoObject with the item's credit."""
    obj: dict[str, Any] = {"@type": _SCHEMA_TYPE.get(row["kind"], "MediaObject"),
                           "identifier": row["id"], "name": row["title"] or row["file"],
                           "contentUrl": content_url or row["file"]}
    for key, value in (("creator", _agent(row)), ("creditText", row["credit_line"]),
                       ("copyrightNotice", row["copyright"]),
                       ("license", row["license_url"]),
                       ("acquireLicensePage", row["acquire_license_page"]),
                       ("url", row["item_url"])):
        if value:
            obj[key] = value
    if row["project"]:
        obj["sourceOrganization"] = {"@type": "Project", "name": row["project"]}
    return obj


def json_for_html(data: Any, indent: int | None = None) -> str:
    """JSON that can sit in an HTML <script> data block: '<', '>' and '&' (only ever
    inside strings) are written as \\u escapes, so no metadata string can close the
    element or open a comment; any JSON reader gets the same data."""
    return json.dumps(data, ensure_ascii=False, indent=indent).replace(
        "<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def to_jsonld(rows: list[dict[str, Any]], base_url: str | None = None) -> str:
    """A schema.org @graph; contentUrl is under `base_url` ('' for site-relative URLs),
    else the file's path in its event folder."""
    graph = [jsonld_object(r, f"{base_url.rstrip('/')}/media/{r['id']}/original"
                           if base_url is not None else None) for r in rows]
    return json_for_html({"@context": "https://schema.org", "@graph": graph}, indent=2) + "\n"


def to_html(rows: list[dict[str, Any]], title: str | None = None) -> str:
    from jinja2 import Environment  # only this format needs it

    template = resources.files("archive").joinpath("data/credits.html").read_text("utf-8")
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    ordered = sorted(rows, key=lambda r: ((r["creator"] or "\uffff").casefold(), r["file"]))
    groups = [(creator, list(items))
              for creator, items in groupby(ordered, key=lambda r: r["creator"])]
    return env.from_string(template).render(rows=rows, groups=groups, title=title)


REFUSALS = {"no creator": "have no creator", "third-party": "are third-party",
            "licence conflict": "have a licence conflict"}


def strict_refusals(items: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """Why `export credits --strict` refuses items, as (kind, line): a REFUSALS kind for
    each item without a creator, third-party (until a [[media]] entry or a forced rule
    decides) or whose licence conflicts with its event's."""
    found = []
    for item in items:
        credit = item.get("credit") or {}
        if not credit.get("creator"):
            found.append(("no creator", f"no creator: {item['path']}"))
        if credit.get("third_party"):
            found.append(("third-party", f"third-party: {item['path']} "
                          f"({_third_party(credit)})"))
        if credit.get("license_conflict"):
            found.append(("licence conflict", f"licence conflict: {item['path']} "
                          f"({_conflict(credit)})"))
    return found


def refusal_summary(refusals: list[tuple[str, str]]) -> str:
    """'2 selected item(s) have no creator, 1 are third-party'."""
    counts = {kind: sum(1 for k, _ in refusals if k == kind) for kind in REFUSALS}
    return ", ".join(f"{n} selected item(s) {REFUSALS[kind]}"
                     for kind, n in counts.items() if n)


def export(items: Iterable[dict[str, Any]], fmt: str, title: str | None = None,
           base_url: str | None = None) -> str:
    rows = [credit_row(item, base_url) for item in items]
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "json":
        return to_json(rows)
    if fmt == "jsonld":
        return to_jsonld(rows, base_url)
    if fmt == "html":
        return to_html(rows, title)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
