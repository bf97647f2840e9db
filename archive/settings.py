"""The limits and sizes of the whole project, each defined once: name, default, what it
limits. README.md's "Settings" section lists them (a test holds it to this table).

Modules read a value with `value(name)`. Where a command-line option or a key of the
site's Flask config sets one today (`serve --cache-size`, `PER_PAGE`), the table gives
that option's or key's default and the value given is passed on explicitly: nothing
here is ever changed at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

MiB = 2**20
# Not a limit but a list the command line (--sort), the index and the site share.
SORTS = ("relevance", "date", "-date")


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | float
    help: str


SETTINGS: tuple[Setting, ...] = (
    # Ingest
    Setting("batch_size", 50, "files committed to the catalog in one transaction (a "
            "killed ingest loses at most this many files' work)"),
    Setting("file_timeout", 120.0, "seconds one file may take in an ingest worker; past "
            "them it is recorded as an error and a fresh worker goes on"),
    Setting("worker_memory", 3 * 2**30, "bytes of address space of one ingest worker; a "
            "file that needs more is recorded as an error"),
    Setting("broker_deliveries", 3, "times one file may be handed to ingest workers on "
            "Celery (ingest --broker) when they are lost reading it (killed, out of memory, "
            "their machine stopped); then it is recorded as an error"),
    Setting("queued_files", 1000, "files an ingest with --broker keeps queued for the "
            "workers at a time (a killed ingest leaves at most these for them)"),
    Setting("max_photo_file", 512 * MiB, "bytes: a larger photo file is recorded as an "
            "error, not read into memory"),
    Setting("max_pixels", 100_000_000, "pixels: a photo with more is recorded as an error "
            "without being decoded"),
    Setting("decode_budget", 900 * MiB, "bytes decoding one photo may take (file, decoder "
            "buffer, pixels); a photo needing more is catalogued without thumbnails"),
    Setting("thumbnail_small", 320, "pixels on the long side of the small thumbnail"),
    Setting("thumbnail_large", 1280, "pixels on the long side of the large thumbnail, and "
            "of the video frames posters and strips are made from"),
    Setting("strip_frames", 10, "frames in a video's frame strip"),
    Setting("strip_height", 90, "pixels: the height of a video's frame strip"),
    Setting("probe_timeout", 30.0, "seconds ffprobe may take to read one video's metadata"),
    Setting("poster_timeout", 60.0, "seconds one video's poster and frame strip may take"),
    Setting("keyframe_timeout", 10.0, "seconds finding the key frames of a strip may take "
            "(at most a quarter of poster_timeout)"),
    Setting("bright_frame_timeout", 20.0, "seconds looking for the first bright frame of a "
            "dark video may take"),
    Setting("face_detect_scale", 1.5, "how much a frame (at most thumbnail_large pixels) is "
            "enlarged for face detection: 1.5 finds faces from about 40 px high"),
    Setting("face_closeup", 0.25, "share of a frame's shorter side: a face this high "
            "makes it a close-up, where faces under about 80 px are not looked for "
            "(0: looked for in every frame)"),
    Setting("face_descriptor_min", 60, "pixels: a face at least this high in that frame "
            "gets a descriptor (to identify it); smaller ones are only boxed"),
    Setting("face_regions", 100, "named XMP face regions read per packet"),
    Setting("face_distance", 0.55, "descriptor distance within which two faces are taken "
            "for one person (dlib's reference 0.6, tuned on ../shared/faces: see "
            "docs/architecture.md)"),
    Setting("event_file_bytes", 4 * MiB, "bytes: a larger event.toml is refused"),
    Setting("event_text_length", 10_000, "characters of one text in event.toml"),
    Setting("sidecar_bytes", 8 * MiB, "bytes: a larger subtitle or XMP sidecar is recorded "
            "as an error"),
    Setting("xmp_packet_bytes", 4 * MiB, "bytes: a larger XMP packet is not read"),
    Setting("video_xmp_scan_bytes", 8 * MiB, "bytes at the start of a video searched for "
            "an XMP packet"),
    # Index and search
    Setting("index_batch", 2000, "items turned into index documents at a time by a full "
            "index build"),
    Setting("index_build_memory", 256, "MB of postings each index writer process holds "
            "before writing them out"),
    Setting("max_query_length", 2000, "characters of a query: the site refuses a longer "
            "one (400), the command line searches its first ones, with a notice "
            "(config MAX_QUERY_LENGTH)"),
    Setting("max_query_terms", 48, "terms of a query used; the rest are left out, with "
            "a notice"),
    Setting("max_query_depth", 16, "brackets nested in a query"),
    Setting("max_prefix_words", 1000, "words a prefix (kel*) expands to"),
    Setting("search_limit", 20, "results per page of 'search' (--limit)"),
    Setting("max_limit", 200, "results per page at most (search --limit, the API's limit)"),
    Setting("max_cues", 20, "matching transcript cues a search result carries"),
    Setting("search_cache", 256, "recent search results the site keeps (serve "
            "--cache-size, config SEARCH_CACHE; 0: none)"),
    Setting("search_cache_bytes", 64 * MiB, "bytes those results may take (serve "
            "--cache-mb in MiB, config SEARCH_CACHE_BYTES; 0: none)"),
    # The site
    Setting("per_page", 24, "results per page of the site and the API (config PER_PAGE)"),
    Setting("max_page", 10_000, "the highest page number the site answers"),
    Setting("export_items", 10_000, "items on the site's credits pages, in their exports "
            "and in a take-away ZIP"),
    Setting("facet_values", 12, "values shown per facet on the search page and by 'search'"),
    Setting("facet_more", 500, "values shown of a facet whose \"More\" the visitor opened"),
    Setting("programme_previews", 4, "thumbnails shown per session on an event's programme"),
    Setting("transcript_page", 200, "transcript cues per page of an item (config "
            "TRANSCRIPT_PAGE)"),
    Setting("max_transcript_page", 1000, "transcript cues per request of the API"),
    Setting("threads", 4, "threads per worker process of serve (--threads)"),
    Setting("connection_limit", 1000, "open connections per worker process of serve "
            "(--connection-limit)"),
    Setting("channel_timeout", 30, "seconds after which serve closes an idle or stalled "
            "connection (--channel-timeout)"),
    Setting("replica_interval", 2.0, "seconds between the syncs of a web node's own index "
            "replica from the catalog (serve --replica-interval)"),
    # The curator's desk (serve --curate)
    Setting("curate_lock_wait", 10.0, "seconds a curator's change waits for another writer "
            "(an ingest, another curator) before the desk answers 'busy, try again' "
            "(config CURATE_LOCK_WAIT)"),
    Setting("curate_form_bytes", 1 * MiB, "bytes of a curator's form at most; a larger "
            "one is refused (413)"),
    Setting("curate_session_hours", 12, "hours a curator stays logged in without a new "
            "login link"),
    Setting("curate_list", 100, "rows of each list of the curator's 'to do' page and "
            "changes shown per page"),
)

BY_NAME = MappingProxyType({setting.name: setting for setting in SETTINGS})


def value(name: str) -> Any:
    """The value of the setting `name`: its default (raises KeyError for a name not in
    the table, so a misspelt one fails where it is read)."""
    try:
        return BY_NAME[name].default
    except KeyError:
        raise KeyError(f"no setting {name!r} in archive/settings.py") from None
