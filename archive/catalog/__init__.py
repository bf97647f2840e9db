"""The catalog: the only code that knows the schema.

`Catalog` is one open catalog file with its transactions; the functions here
read and write it, taking a Catalog and giving back the records of
`archive.model` (stored JSON decoded). Their SQL is what PostgreSQL runs too,
but for what `dialect` holds.
"""

from archive.catalog.changes import changes_since
from archive.catalog.curatorlog import curator_changes, log_changes
from archive.catalog.database import RECOVER, Catalog, CatalogError, DamagedValue
from archive.catalog.details import item_details
from archive.catalog.events import (
    event_differs,
    event_folder,
    event_folders,
    event_titles,
    get_event,
    list_events,
    resolution_mark,
    save_event,
    set_resolution_mark,
    set_unmatched_media,
    unmatched_media,
)
from archive.catalog.faces import (
    clustered_faces,
    count_faces,
    face_of_item,
    faces_named,
    faces_of_item,
    faces_of_person,
    faces_to_cluster,
    faces_to_resolve,
    set_clusters,
    set_face_names,
    set_faces,
    unclustered_faces,
    unscanned_items,
)
from archive.catalog.files import (
    copies_by_item,
    copies_in_event,
    delete_file,
    files_of_event,
    files_without_item,
    item_of_file,
    items_without_files,
    media_files_of_item,
    present_media_files,
    put_file,
    set_file_state,
)
from archive.catalog.findings import (
    ambiguous_items,
    copies,
    dated_by_file,
    items_without,
    kind_counts,
    license_conflicts,
    missing_files,
    third_party_items,
    unknown_cameras,
    withheld_ids,
    withheld_items,
)
from archive.catalog.items import (
    count_items,
    delete_item,
    get_item,
    item_by_file,
    item_place,
    items_by_creator,
    items_by_prefix,
    items_by_relpath,
    items_of_person,
    items_of_session,
    items_per_event,
    move_item,
    present_items,
    put_item,
    relpaths_of_event,
    select_items,
    set_thumbnails,
    thumbnail_path,
    thumbnails_with_items,
    touch_item,
    transcript_of,
)
from archive.catalog.people import (
    events_of_person,
    face_refs,
    get_person,
    names_by_id,
    names_in_events,
    people_names,
    person_aliases,
    person_names,
)
from archive.catalog.previews import event_covers, session_previews
from archive.catalog.problems import (
    clear_problems,
    error_paths,
    problems_of_event,
    problems_of_file,
    problems_of_kind,
    record_problem,
    replace_scan_problems,
    scan_problems,
    underived_items,
    unread_files,
)
from archive.catalog.resolutions import (
    items_to_resolve,
    sortable_time,
    store_resolution,
    unresolved_per_event,
)
from archive.catalog.sessions import (
    count_session_items,
    events_of_session,
    get_session,
    items_per_session,
    roles_of_person,
    session_places,
    session_titles,
    sessions_of_event,
)

__all__ = [
    "RECOVER", "Catalog", "CatalogError", "DamagedValue",
    # items
    "count_items", "delete_item", "get_item", "item_by_file", "item_details", "item_place",
    "items_by_creator", "items_by_prefix", "items_by_relpath", "items_of_person",
    "items_of_session", "items_per_event", "move_item", "present_items", "put_item",
    "relpaths_of_event", "select_items",
    "set_thumbnails", "thumbnail_path", "thumbnails_with_items", "touch_item",
    "transcript_of",
    "changes_since", "curator_changes", "log_changes",
    # faces
    "count_faces", "faces_named", "faces_of_item", "faces_to_resolve", "set_face_names",
    "set_faces", "clustered_faces", "face_refs", "faces_to_cluster", "set_clusters",
    "unclustered_faces", "face_of_item", "faces_of_person",
    "unscanned_items",
    # files
    "copies_by_item", "copies_in_event", "delete_file", "files_of_event", "files_without_item",
    "item_of_file", "items_without_files", "media_files_of_item", "present_media_files",
    "put_file", "set_file_state",
    # events, sessions, people
    "event_differs", "event_folder", "event_folders", "event_titles", "get_event",
    "list_events", "save_event", "count_session_items", "events_of_session",
    "get_session", "items_per_session", "roles_of_person", "session_places",
    "session_titles", "sessions_of_event", "events_of_person", "get_person",
    "names_by_id", "names_in_events", "people_names", "person_aliases",
    "person_names",
    # previews on the site
    "event_covers", "session_previews",
    # resolution
    "items_to_resolve", "resolution_mark", "set_resolution_mark", "set_unmatched_media",
    "sortable_time", "store_resolution", "unmatched_media", "unresolved_per_event",
    # problems and the report's lists
    "clear_problems", "error_paths", "problems_of_event", "problems_of_file",
    "problems_of_kind", "record_problem", "replace_scan_problems", "scan_problems",
    "underived_items", "unread_files", "ambiguous_items", "copies", "dated_by_file",
    "items_without", "kind_counts", "license_conflicts", "missing_files",
    "third_party_items", "unknown_cameras", "withheld_ids", "withheld_items",
]
