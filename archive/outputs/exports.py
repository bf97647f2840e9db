"""Credit exports: CSV, JSON, JSON-LD (schema.org) and an HTML credits page."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from importlib import resources
from itertools import groupby
from typing import Any

FORMATS = ("csv", "json", "jsonld", "html")
FIELDS = ("creator", "organisation", "project", "copyright", "license", "acquire_license_page")
CSV_COLUMNS = ("id", "file", "kind", "title", "session", *FIELDS, "credit_line",
               *(f"{f}_source" for f in FIELDS))
_SCHEMA_TYPE = {"photo": "ImageObject", "video": "VideoObject", "audio": "AudioObject"}
_CC = re.compile(r"CC-(BY(?:-NC)?(?:-SA|-ND)?)-(\d\.\d)\Z")


def license_url(license_: str | None) -> str | None:
    """A URL for a license: itself if it is one, Creative Commons' page for CC ids,
    else the SPDX page."""
    if not license_:
        return None
    if license_.startswith(("http://", "https://")):
        return license_
    match = _CC.match(license_)
    if match:
        return f"https://creativecommons.org/licenses/{match[1].lower()}/{match[2]}/"
    if license_ == "CC0-1.0":
        return "https://creativecommons.org/publicdomain/zero/1.0/"
    return f"https://spdx.org/licenses/{license_}.html"


def credit_row(item: dict[str, Any]) -> dict[str, Any]:
    """One flat row per item: what every format is made from."""
    credit = item.get("credit") or {}
    sources = credit.get("sources") or {}
    row = {"id": item["id"], "file": item["relpath"], "kind": item["kind"],
           "title": item.get("title"),
           "session": " ".join(s["id"] for s in item.get("sessions") or []),
           "credit_line": credit.get("line"), "path": item.get("path")}
    for name in FIELDS:
        row[name] = credit.get(name)
        row[f"{name}_source"] = sources.get(name)
    row["license_url"] = license_url(row["license"])
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
              "sources": {f: r[f"{f}_source"] for f in FIELDS if r[f"{f}_source"]}}
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
                       ("acquireLicensePage", row["acquire_license_page"])):
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


def export(items: Iterable[dict[str, Any]], fmt: str, title: str | None = None,
           base_url: str | None = None) -> str:
    rows = [credit_row(item) for item in items]
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "json":
        return to_json(rows)
    if fmt == "jsonld":
        return to_jsonld(rows, base_url)
    if fmt == "html":
        return to_html(rows, title)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
