"""Synthetic events and items for the search and scale benchmarks (seeded, realistic)."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from typing import Any

FIRST = ["Péter", "Anna", "José", "Zoë", "Luca", "Chiara", "Xavier", "Ester", "Roberto",
         "Alberto", "Massimo", "Barry", "Ingrid", "Søren", "Agnieszka", "François", "Małgorzata",
         "Jürgen", "Elif", "Nuno", "Aoife", "Dimitris", "Kateřina", "Paolo", "Sofía", "Mihai",
         "Lena", "Tomás", "Eva", "Henrik"]
LAST = ["Keller", "Rossi", "García", "Müller", "Silva", "Testar Ymbert", "Pini", "Bramanti",
        "Innocenti", "Guckian", "Nowak", "Dubois", "Jensen", "Kowalski", "Novák", "Yılmaz",
        "Papadopoulos", "Ó Briain", "Martinez", "Bianchi", "Neri", "Horváth", "Lindqvist",
        "Fernández", "Popescu", "Schmidt", "Costa", "Virtanen", "Ricci", "Moreau"]
TOPICS = ["industrial modernisation", "advanced materials", "interregional cooperation",
          "digital innovation", "smart specialisation", "circular economy", "public policy",
          "traditional manufacturing", "industry 4.0", "regional development",
          "energy transition", "artificial intelligence", "supply chains", "skills and training",
          "research infrastructure", "startups and SMEs", "cultural heritage", "mobility",
          "water management", "health technologies"]
PROJECTS = ["TRINNO", "NMP-REG", "INNOPROVEMENT", "STEPHANIE", "ASEV", "FUTOUR", "REGIO4",
            "CIRCULAR", "DIGI-SME", "HERITAGE+"]
ORGS = ["University of Barcelona", "Hungarian Ministry of Finance", "National Research Council",
        "Bocconi University", "University of Florence", "Northern and Western Regional Assembly",
        "Tuscany Region", "Arezzo Innovazione", "European Commission", "FUTOUR"]
CAMERAS = [("Canon", "Canon EOS 80D"), ("NIKON CORPORATION", "NIKON D750"), ("SONY", "ILCE-7M3"),
           ("FUJIFILM", "X-T3"), ("Apple", "iPhone 12"), ("Panasonic", "DC-GH5")]
ROOMS = ["Plenary", "Sala Michelangelo", "Sala Donatello", "Room A", "Room B", "Auditorium"]
SENTENCES = ["{name} presented the {project} project on {topic}.",
             "We discussed how {topic} changes regional policy.",
             "{name} asked about funding for {topic}.",
             "The panel on {topic} was moderated by {name}.",
             "Thank you all for coming to {city}.",
             "Our partners from {org} shared their experience."]
CITIES = ["Florence", "Barcelona", "Budapest", "Porto", "Dublin", "Lyon", "Gdańsk", "Aarhus"]


def make_event(rng: random.Random, number: int) -> dict[str, Any]:
    people = []
    for i in range(30):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append({"id": f"p{number}-{i}", "name": f"{first} {last}",
                       "org": rng.choice(ORGS), "project": rng.choice(PROJECTS)})
    day = dt.datetime(2015, 1, 5) + dt.timedelta(days=number * 9)
    sessions = []
    start = day.replace(hour=9)
    for i in range(8):
        topic_words = " and ".join(rng.sample(TOPICS, 2))
        length = dt.timedelta(minutes=rng.choice((60, 90, 120)))
        sessions.append({"id": f"s{i + 1}", "title": topic_words.capitalize(),
                         "room": rng.choice(ROOMS), "start": start, "end": start + length,
                         "people": rng.sample(people, 4)})
        start += length if i % 2 else dt.timedelta(0)
    return {"id": f"event-{number:03d}", "title": f"{rng.choice(TOPICS).title()} forum "
            f"{rng.choice(CITIES)} {day.year}", "day": day, "people": people,
            "sessions": sessions, "city": rng.choice(CITIES),
            "creators": [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(5)]}


def _transcript(rng: random.Random, event: dict, session: dict) -> list[dict[str, Any]]:
    cues, at = [], 0.0
    for _ in range(rng.randint(5, 20)):
        person = rng.choice(session["people"])
        text = rng.choice(SENTENCES).format(name=person["name"], project=person["project"],
                                            topic=rng.choice(TOPICS), city=event["city"],
                                            org=person["org"])
        cues.append({"start": round(at, 1), "end": round(at + 4, 1), "text": text})
        at += rng.uniform(4, 9)
    return cues


def make_item(rng: random.Random, event: dict, n: int) -> dict[str, Any]:
    """An item in the JSON shape of DESIGN.md."""
    session = rng.choice(event["sessions"])
    kind = "video" if rng.random() < 0.1 else "photo"
    taken = session["start"] + dt.timedelta(seconds=rng.randint(0, 3600))
    make, model = rng.choice(CAMERAS)
    shown = rng.sample(session["people"], rng.randint(0, 2))
    people = [{"id": p["id"], "name": p["name"], "relation": "shown", "source": "xmp"}
              for p in shown]
    people += [{"id": p["id"], "name": p["name"], "relation": "session", "source": "time"}
               for p in session["people"] if p not in shown]
    transcript = _transcript(rng, event, session) if kind == "video" else []
    creator = rng.choice(event["creators"])
    project = rng.choice(PROJECTS)
    org = rng.choice(ORGS)
    ident = hashlib.sha256(f"{event['id']}-{n}".encode()).hexdigest()
    relpath = f"{'video' if kind == 'video' else 'photos'}/{model.split()[-1]}/IMG_{n:05d}." \
              f"{'mp4' if kind == 'video' else 'jpg'}"
    title = (f"{shown[0]['name']} on {rng.choice(TOPICS)}" if shown and rng.random() < 0.5
             else None)
    return {
        "id": ident, "event": event["id"], "kind": kind, "path": f"/media/{event['id']}/"
        f"{relpath}", "relpath": relpath, "mime": "video/mp4" if kind == "video" else
        "image/jpeg", "size": rng.randint(10**5, 10**7), "width": 6000, "height": 4000,
        "orientation": 1, "taken": taken.isoformat() + "+01:00", "taken_source": "exif",
        "camera": {"make": make, "model": model, "serial": None, "lens": None},
        "exposure": None, "gps": None,
        "duration": round(rng.uniform(5, 600), 1) if kind == "video" else None,
        "video": None, "audio": None, "title": title,
        "description": f"{session['title']} at {event['title']}" if rng.random() < 0.3
        else None, "keywords": rng.sample(TOPICS, 2) if rng.random() < 0.3 else [],
        "sessions": [{"id": session["id"], "source": "time"}], "people": people,
        "credit": {"creator": creator, "organisation": org, "project": project,
                   "copyright": f"© {org}", "license": "CC-BY-4.0",
                   "line": f"Photo: {creator} / {org} ({project})", "sources": {}},
        "thumbnails": None, "transcript": transcript, "duplicates": [],
    }


def generate(count: int, per_event: int = 500, seed: int = 7) -> tuple[list[dict], list[dict]]:
    """(events, items): `count` items spread over events of `per_event` items."""
    rng = random.Random(seed)
    events = [make_event(rng, n) for n in range((count + per_event - 1) // per_event)]
    items = [make_item(rng, events[n // per_event], n) for n in range(count)]
    return events, items


def context(events: list[dict]) -> dict[str, Any]:
    """The lookup tables indexer.documents.to_document expects."""
    return {"events": {e["id"]: e["title"] for e in events},
            "sessions": {(e["id"], s["id"]): {"title": s["title"], "room": s["room"]}
                         for e in events for s in e["sessions"]},
            "aliases": {}}


def write_catalog(archive: Any, events: list[dict], items: list[dict],
                  thumbnails: list[tuple[str, str]]) -> None:
    """Store synthetic events and items straight into an archive's catalog (no media):
    what ingest would have written. `thumbnails` are (small, large) paths inside the
    archive, shared round-robin by the items."""
    import json

    db = archive.catalog
    with db.transaction() as revision:
        for event in events:
            db.execute("INSERT INTO events VALUES (?, ?, ?, NULL, ?, ?)",
                       (event["id"], event["title"], f"/media/{event['id']}", json.dumps(
                           {"date": event["day"].date().isoformat(), "timezone": "UTC"}),
                        revision))
            db.db.executemany("INSERT INTO people VALUES (?, ?, ?, ?)", [
                (event["id"], p["id"], p["name"], json.dumps(
                    {"id": p["id"], "name": p["name"], "affiliation": p["org"],
                     "project": p["project"], "aliases": []})) for p in event["people"]])
            db.db.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (event["id"], s["id"], s["title"], s["start"].date().isoformat(),
                 s["start"].strftime("%H:%M"), s["end"].strftime("%H:%M"), s["room"],
                 json.dumps({"moderators": [], "speakers": [p["id"] for p in s["people"]],
                             "description": None})) for s in event["sessions"]])
        for n, item in enumerate(items):
            _write_item(db, item, revision, thumbnails[n % len(thumbnails)])


def _write_item(db: Any, item: dict, revision: int, thumbs: tuple[str, str]) -> None:
    import json

    meta = {k: item[k] for k in ("width", "height", "orientation", "camera", "exposure",
                                 "gps", "duration", "video", "audio", "transcript")}
    resolved = {k: item[k] for k in ("taken", "taken_source", "title", "description",
                                     "keywords")}
    db.execute("INSERT INTO items (id, event_id, kind, mime, size, path, relpath, taken, "
               "metadata, resolved, revision, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
               (item["id"], item["event"], item["kind"], item["mime"], item["size"],
                item["path"], item["relpath"], item["taken"], json.dumps(meta),
                json.dumps(resolved), revision))
    tags = [(item["id"], "session", s["id"], "", s["source"]) for s in item["sessions"]]
    tags += [(item["id"], "person", p["id"], p["relation"], p["source"])
             for p in item["people"]]
    db.db.executemany("INSERT INTO tags (item_id, kind, value, relation, source) VALUES "
                      "(?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", tags)
    db.db.executemany("INSERT INTO credits VALUES (?, ?, ?, ?)", [
        (item["id"], k, item["credit"][k], "default") for k in
        ("creator", "organisation", "project", "copyright", "license") if item["credit"][k]])
    db.db.executemany("INSERT INTO thumbnails VALUES (?, ?, ?, 320, 213)", [
        (item["id"], "small", thumbs[0]), (item["id"], "large", thumbs[1])])
