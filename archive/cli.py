"""`event-archive`: the command line, and the composition root of the project.

The one module of `archive` allowed to import `indexer` and `web`, inside the
commands that need them. Errors users can cause are printed on one line and
exit 1; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from archive import logs, settings
from archive.catalog import CatalogError
from archive.errors import ArchiveError
from archive.fsnames import ERRORS, readable_json
from archive.ingest.pipeline import FaceStage, IngestSummary, ingest_folder
from archive.media import tools
from archive.model import Event, taken_text
from archive.outputs.exports import FORMATS, export, refusal_summary, strict_refusals
from archive.outputs.itemjson import (
    camera_label,
    find_item,
    items_json,
    require_ids,
    selected_items,
)
from archive.outputs.report import build_report, report_lines, unmatched_line
from archive.resolve.eventfile import load_event
from archive.resolve.licenses import url_problem
from archive.store import (
    CATALOG_ENV_VAR,
    CATALOG_FILE,
    ENV_VAR,
    Archive,
    default_archive_dir,
    holds_archive,
)
from archive.terminal import echo

REPLICA_ENV_VAR = "EVENT_ARCHIVE_REPLICA"  # serve --replica

if TYPE_CHECKING:  # Celery is the scale extra's, loaded only with a broker
    from archive.ingest.remote import Broker


class Context:
    def __init__(self, archive_dir: Path, verbose: int, debug: bool,
                 catalog: str | None = None, catalog_from_env: bool = False) -> None:
        self.archive_dir, self.verbose, self.debug = archive_dir, verbose, debug
        self.catalog, self.catalog_from_env = catalog, catalog_from_env

    def open(self, create: bool = False, readonly: bool = False) -> Archive:
        catalog = self.catalog
        if self.catalog_from_env and holds_archive(self.archive_dir):
            # $EVENT_ARCHIVE_CATALOG names new archives' catalog; an archive has its own.
            catalog = None
        return Archive.open(self.archive_dir, create=create, readonly=readonly,
                            catalog=catalog)


def emit(data: Any) -> None:
    echo(readable_json(json.dumps(data, ensure_ascii=False, indent=2, default=str)))


ARCHIVE_HELP = "Archive directory (default: $EVENT_ARCHIVE, else ./event-archive)."
CATALOG_HELP = ("A new archive's catalog on PostgreSQL: postgresql://USER@HOST[:PORT]/DB (default: "
                "$EVENT_ARCHIVE_CATALOG; without it, a SQLite file in the archive). The "
                "archive remembers it.")
VERBOSE_HELP = ("Say more: every per-file warning, and debug messages (-vv: those of "
                "other libraries too).")
QUIET_HELP = "Say only what went wrong."


def _archive_after_command(ctx: click.Context, _param: click.Parameter,
                           value: Path | None) -> None:
    # Parsed after the group's options (whose callback made the Context), so it wins.
    obj = ctx.find_object(Context)
    if value is not None and obj is not None:
        obj.archive_dir = value


def _catalog_after_command(ctx: click.Context, _param: click.Parameter,
                           value: str | None) -> None:
    obj = ctx.find_object(Context)
    if value is not None and obj is not None:
        obj.catalog, obj.catalog_from_env = value, False


def _verbose_after_command(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    obj = ctx.find_object(Context)
    if value and obj is not None and obj.verbose >= 0:  # -q wins wherever it stands
        obj.verbose += value


def _quiet_after_command(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    obj = ctx.find_object(Context)
    if value and obj is not None:
        obj.verbose = -1


# Commands that never open an archive: they take -v and -q after them, not --archive.
WITHOUT_ARCHIVE = frozenset({"worker"})


def after_command_options(archive: bool = True) -> list[click.Option]:
    """`--archive`, `--catalog`, `-v` and `-q` for a subcommand (`archive` false: the
    last two alone): the same options as before the command."""
    where = [click.Option(["--archive"], type=click.Path(file_okay=False, path_type=Path),
                          expose_value=False, callback=_archive_after_command,
                          help=ARCHIVE_HELP),
             click.Option(["--catalog"], metavar="URL", expose_value=False,
                          callback=_catalog_after_command, help=CATALOG_HELP)]
    return [*(where if archive else []),
            click.Option(["-v", "--verbose"], count=True, expose_value=False,
                         callback=_verbose_after_command, help=VERBOSE_HELP),
            click.Option(["-q", "--quiet"], is_flag=True, expose_value=False,
                         callback=_quiet_after_command, help=QUIET_HELP)]


class ArchiveCommand(click.Command):
    """A command that sets up logging, from `-v`/`-q` before or after it, once all its
    options are parsed and before it runs."""

    def invoke(self, ctx: click.Context) -> Any:
        obj = ctx.find_object(Context)
        if obj is not None:
            logs.configure(obj.verbose)
        return super().invoke(ctx)


class ArchiveGroup(click.Group):
    """Turns errors users can cause into one line on stderr and exit code 1, and gives
    every command (of nested groups too) `--archive`, `-v` and `-q`, after the command as
    well as before."""

    group_class = type
    command_class = ArchiveCommand

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.params += after_command_options((name or cmd.name) not in WITHOUT_ARCHIVE)
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ArchiveError, sqlite3.DatabaseError) as exc:
            if ctx.obj is not None and ctx.obj.debug:
                raise
            if isinstance(exc, sqlite3.DatabaseError):  # damage found past the open checks
                catalog = ctx.obj.archive_dir.resolve() / CATALOG_FILE
                exc = ArchiveError(f"{catalog}: the catalog cannot be read ({exc}); run "
                                   "'event-archive verify'")
            echo(f"error: {exc}", err=True)
            ctx.exit(1)


class QueryCommand(ArchiveCommand):
    """A command whose QUERY may start with '-' (`-kind:video` leaves videos out): a word
    with one dash that is none of the command's options is part of the query, wherever
    it stands. Unknown `--words` stay options, so a misspelt one is still named."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _query_last(self.get_params(ctx), args))


def _query_last(params: list[click.Parameter], args: list[str]) -> list[str]:
    """The options (with their values) first, then `--` and the words of the query."""
    takes_value = {name: not (p.is_flag or p.count) for p in params
                   if isinstance(p, click.Option) for name in (*p.opts, *p.secondary_opts)}
    options: list[str] = []
    words: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            words += rest
            break
        name = arg.split("=", 1)[0]
        if name in takes_value or arg.startswith("--") or _short_flags(arg, takes_value):
            options.append(arg)
            if takes_value.get(name) and "=" not in arg:
                options += [value for value in (next(rest, None),) if value is not None]
        else:
            words.append(arg)
    return [*options, "--", *words]


def _short_flags(arg: str, takes_value: dict[str, bool]) -> bool:
    """`-vv` or `-vq`: short flags written as one word, which click reads as flags."""
    return len(arg) > 2 and arg[0] == "-" and arg[1] != "-" and all(
        takes_value.get(f"-{letter}") is False for letter in arg[1:])


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
BROKER_ENV = "EVENT_ARCHIVE_BROKER"
broker_option = click.option(
    "--broker", metavar="URL", envvar=BROKER_ENV, default=None,
    help="Read the files on ingest workers on Celery ('event-archive worker') through "
    "this Redis, redis://HOST[:PORT][/DB] (default: $EVENT_ARCHIVE_BROKER; '' or none: "
    "local worker processes, --jobs).")


@click.group(cls=ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--archive", "archive_dir", type=click.Path(file_okay=False, path_type=Path),
              envvar=ENV_VAR, default=None, help=ARCHIVE_HELP)
@click.option("--catalog", metavar="URL", envvar=CATALOG_ENV_VAR, default=None,
              help=CATALOG_HELP)
@click.option("-v", "--verbose", count=True, help=VERBOSE_HELP)
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
@click.option("--debug", is_flag=True, help="Show tracebacks; re-raise per-file errors.")
@click.version_option(package_name="event-archive")
@click.pass_context
def main(ctx: click.Context, archive_dir: Path | None, catalog: str | None, verbose: int,
         quiet: bool, debug: bool) -> None:
    """Archive and search the photos and videos of events.

    --archive, --catalog, -v and -q go before or after the command; an --archive
    after it wins.
    """
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 shows as \xe9
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ERRORS)
    from_env = ctx.get_parameter_source("catalog") == click.core.ParameterSource.ENVIRONMENT
    ctx.obj = Context(archive_dir or default_archive_dir(), -1 if quiet else verbose, debug,
                      catalog, from_env)


def _print_summary(summary: IngestSummary, verbose: int) -> None:
    """The summary line, then what went wrong (all that -q leaves)."""
    if verbose >= 0:
        echo(summary.line())
    for entry in summary.unmatched_media:
        echo(f"warning: {unmatched_line(entry)}", err=True)
    problems = [e for e in summary.errors if e["level"] == "error" or verbose > 0]
    for error in problems[:20 if verbose < 1 else None]:
        echo(f"  {error['level']}: {error['path']}: [{error['stage']}] "
             f"{error['message']}", err=True)
    if len(problems) > 20 and verbose < 1:
        echo(f"  … and {len(problems) - 20} more; see 'event-archive report'", err=True)


@main.command()
@click.argument("event_dirs", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: number of cores).")
@click.option("--prune", is_flag=True, help="Forget items whose files have disappeared.")
@click.option("--faces/--no-faces", default=True, show_default=True,
              help="Find faces in the files read (needs event-archive[faces]).")
@broker_option
@json_option
@click.pass_obj
def ingest(obj: Context, event_dirs: tuple[Path, ...], jobs: int | None, prune: bool,
           faces: bool, broker: str | None, as_json: bool) -> None:
    """Ingest event folders (media plus event.toml) into the archive."""
    absent = tools.missing("ffprobe", "ffmpeg")
    if absent and not as_json:
        echo(f"warning: {', '.join(absent)} not found: videos will be recorded as "
             f"errors, photos still ingest; {tools.INSTALL_HINT}", err=True)
    workers = _broker(broker)  # before anything is written
    if workers is not None and jobs is not None and not as_json:
        echo("warning: --jobs is for reading files here; with --broker, the workers' "
             "--concurrency says how many are read at once", err=True)
    failures: list[dict[str, str]] = []
    summaries: list[IngestSummary] = []
    events = _load_events(obj, event_dirs, failures)
    if events:
        ids = [event.id for _folder, event in events]
        with obj.open(create=True) as archive, archive.write_lock(ids, quiet=as_json):
            options = {"jobs": jobs, "prune": prune, "faces": FaceStage(faces, quiet=as_json),
                       "broker": workers}
            summaries = _ingest_events(obj, archive, events, failures, options, as_json)
            if summaries:
                from indexer.sync import sync

                with archive.index_lock():
                    sync(archive, quiet=as_json)  # -q: the log level hides its notice
    if as_json:
        emit({"events": [s.as_dict() for s in summaries], "failed": failures})
    if failures:
        sys.exit(1)


def _broker(url: str | None) -> Broker | None:
    """The broker `--broker` names, checked to answer (raises ArchiveError when it does
    not, or when Celery is not installed); None without one."""
    if not url:
        return None
    try:
        from archive.ingest.remote import Broker
    except ImportError as exc:
        raise ArchiveError(f"--broker needs Celery and redis ({exc}); install "
                           "event-archive[scale]") from None
    return Broker.connect(url)


def _failed(obj: Context, failures: list[dict[str, str]], folder: Path,
            exc: ArchiveError) -> None:
    """An event that could not be ingested: said, counted, and the others go on."""
    if obj.debug:
        raise exc
    failures.append({"folder": str(folder), "error": str(exc)})
    echo(f"error: {exc}", err=True)


def _load_events(obj: Context, event_dirs: tuple[Path, ...],
                 failures: list[dict[str, str]]) -> list[tuple[Path, Event]]:
    """The event file of each folder, read before the archive is opened: one that is
    wrong must not leave a new archive behind (catalog, thumbs/, lock) holding nothing."""
    events = []
    for folder in event_dirs:
        try:
            events.append((folder, load_event(folder)))
        except ArchiveError as exc:
            _failed(obj, failures, folder, exc)
    return events


def _ingest_events(obj: Context, archive: Archive, events: list[tuple[Path, Event]],
                   failures: list[dict[str, str]], options: dict[str, Any],
                   as_json: bool) -> list[IngestSummary]:
    """Each folder in turn; `options` go to ingest_folder (jobs, prune, faces, broker)."""
    summaries = []
    for folder, event in events:
        try:
            summary = ingest_folder(archive, folder, debug=obj.debug, event=event,
                                    progress=not as_json and obj.verbose >= 0, **options)
        except CatalogError:
            raise  # the archive itself: no other folder can go in either
        except ArchiveError as exc:
            _failed(obj, failures, folder, exc)
            continue
        summaries.append(summary)
        if not as_json:
            _print_summary(summary, obj.verbose)
    return summaries


@main.command("list")
@click.option("--event", "event_id", help="Only items of this event.")
@json_option
@click.pass_obj
def list_(obj: Context, event_id: str | None, as_json: bool) -> None:
    """List every item."""
    with obj.open(readonly=True) as archive:
        items = items_json(archive.catalog, selected_items(archive.catalog, event=event_id))
    if as_json:
        emit(items)
        return
    for item in items:
        credit = (item["credit"] or {}).get("line") or "no credit"
        withheld = f"  withheld: {item['withheld']}" if item["withheld"] else ""
        echo(f"{item['id'][:12]}  {item['kind']:5}  {taken_text(item) or '-':19}  "
             f"{item['relpath']}  [{credit}]{withheld}")


@main.command()
@click.argument("item")
@json_option
@click.pass_obj
def show(obj: Context, item: str, as_json: bool) -> None:
    """Show one item, by id, id prefix or original path."""
    with obj.open(readonly=True) as archive:
        try:
            found = find_item(archive.catalog, item, Path.cwd())
        except LookupError as exc:
            raise ArchiveError(str(exc)) from None
        if found is None:
            raise ArchiveError(f"no item {item!r} in {archive.root}: give an id, a unique id "
                               "prefix of 4+ hex digits or a path; see 'event-archive list'")
        data = items_json(archive.catalog, [found])[0]
    if as_json:
        emit(data)
        return
    for key, value in data.items():
        if value not in (None, [], {}):
            echo(f"{key:13} {_shown(key, value)}")


def _shown(key: str, value: Any) -> str:
    if key == "camera":
        extra = ", ".join(f"{k} {value[k]}" for k in ("serial", "lens") if value.get(k))
        return " ".join(p for p in (camera_label(value), extra and f"({extra})") if p)
    return str(value) if isinstance(value, str | int | float) else json.dumps(
        value, ensure_ascii=False)


@main.command()
@click.option("--event", "event_id", help="Only this event.")
@json_option
@click.pass_obj
def report(obj: Context, event_id: str | None, as_json: bool) -> None:
    """Errors, missing files, duplicates, items without credit or session."""
    with obj.open(readonly=True) as archive:
        data = build_report(archive.catalog, event_id)
    if as_json:
        emit(data)
    else:
        echo("\n".join(report_lines(data)) or "nothing to report")


@main.group("export")
def export_group() -> None:
    """Export data from the archive."""


@export_group.command("credits", cls=QueryCommand)
@click.argument("query", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--event", "event_id", help="Only this event.")
@click.option("--session", help="Only items of this session id.")
@click.option("--person", help="Only items with this person id.")
@click.option("--strict", is_flag=True, help="Refuse (exit 1) if an item has no creator, is "
              "third-party or has a licence conflict.")
@click.option("--base-url", help="Site address, for contentUrl in JSON-LD.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output ('-': standard output).")
@click.pass_obj
def export_credits(obj: Context, query: str | None, fmt: str, event_id: str | None,
                   session: str | None, person: str | None, strict: bool,
                   base_url: str | None, output: Path | None) -> None:
    """Export the credits of the selected items (CSV, JSON, JSON-LD or HTML)."""
    _check_base_url(base_url)
    with obj.open(readonly=True) as archive:
        items = _select_for_export(archive, query, event_id, session, person)
    if strict:
        refusals = strict_refusals(items)
        if refusals:
            for _kind, line in refusals:
                echo(line, err=True)
            raise ArchiveError(f"{refusal_summary(refusals)}; decide them in event.toml "
                               "([[people]], [[media]] or [[credit.rules]]) and ingest")
    text = export(items, fmt, title=query, base_url=base_url)
    if output and str(output) != "-":  # '-' is standard output, as for most tools
        _write_output(output, text)
    else:
        echo(text, nl=False)


def _write_output(path: Path, text: str) -> None:
    """Write what the user asked into `path`; raises ArchiveError in one line when it
    cannot be written (no such folder, a full disk, a file that takes no writes), after
    removing a file it created but could not finish."""
    existed = os.path.lexists(path)
    try:
        with open(path, "w", encoding="utf-8", errors=ERRORS) as fh:
            fh.write(text)
    except OSError as exc:
        if not existed:
            with contextlib.suppress(OSError):
                path.unlink()
        raise ArchiveError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _check_base_url(base_url: str | None) -> None:
    problem = base_url and url_problem(base_url)
    if problem:
        raise ArchiveError(f"--base-url: {problem}")


def _select_for_export(archive: Archive, query: str | None, event_id: str | None,
                       session: str | None, person: str | None) -> list[dict[str, Any]]:
    # Withheld items are never exported (DESIGN.md, "Publication").
    items = selected_items(archive.catalog, event=event_id, session=session, person=person,
                           published=True)
    if query:
        wanted = set(_search_ids(archive, query))
        items = [item for item in items if item.id in wanted]
    return items_json(archive.catalog, items)


def _search_ids(archive: Archive, query: str) -> list[str]:
    from indexer.search import QueryError, SearchIndex

    index = SearchIndex(archive, quiet=False)
    try:
        return [hit["id"] for hit in index.every_hit(query)]
    except QueryError as exc:
        raise ArchiveError(f"bad query: {exc}") from None
    finally:
        index.close()


@main.command("search", cls=QueryCommand)
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, settings.value("max_limit")),
              default=settings.value("search_limit"), show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--sort", type=click.Choice(settings.SORTS), default="relevance",
              show_default=True)
@click.option("--all", "withheld", is_flag=True,
              help="Include items withheld from publication (consent, publish = false).")
@json_option
@click.pass_obj
def search_command(obj: Context, query: str, limit: int, page: int, sort: str,
                   withheld: bool, as_json: bool) -> None:
    """Search the archive: words, "phrases" and field:value filters."""
    from indexer.search import Page, QueryError, SearchIndex

    with obj.open(readonly=False) as archive:
        index = SearchIndex(archive, quiet=as_json)
        try:
            result = index.search(query, Page(page, limit), sort, withheld=withheld)
        except QueryError as exc:
            raise ArchiveError(f"bad query: {exc}") from None
        finally:
            index.close()
    if as_json:
        emit(result)
        return
    _print_results(result)


def _print_results(result: dict[str, Any]) -> None:
    for notice in result["notices"]:
        echo(f"note: {notice}", err=True)
    echo(f"{result['total']} result(s) for {result['query']!r}"
         + (f", page {result['page']} of {result['pages']}" if result["pages"] > 1
            else ""))
    if result["suggestion"]:
        echo(f"did you mean: {result['suggestion']}")
    for item in result["results"]:
        at = f" @{item['at']:g}s" if item["at"] is not None else ""
        withheld = "  (withheld)" if item.get("withheld") else ""
        echo(f"{item['id'][:12]}  {item['kind']:5}  {taken_text(item) or '-':19}  "
             f"{item['relpath']}{at}  [{(item['credit'] or {}).get('line') or ''}]{withheld}")
    shown = settings.value("facet_values")
    for name, counts in result["facets"].items():
        if counts:
            top = ", ".join(f"{k} ({v})" for k, v in list(counts.items())[:shown])
            more = f", … {len(counts) - shown} more" if len(counts) > shown else ""
            echo(f"  {name}: {top}{more}")


@main.group("faces", invoke_without_command=True)
@click.option("--event", "event_id", help="Only clusters with faces in this event.")
@json_option
@click.pass_context
def faces_group(ctx: click.Context, event_id: str | None, as_json: bool) -> None:
    """List the clusters of faces: size, sample faces, a suggestion of who and why.

    Confirm one with 'faces name CLUSTER PERSON' (or 'faces reject CLUSTER PERSON'):
    the event file keeps what you confirm."""
    if ctx.invoked_subcommand is not None:
        return
    from archive.outputs.facelist import face_clusters

    with ctx.obj.open(readonly=True) as archive:
        if event_id:
            require_ids(archive.catalog, event=event_id)
        clusters = face_clusters(archive.catalog, event_id)
    if as_json:
        emit({"clusters": clusters})
        return
    echo("\n".join(face_cluster_lines(clusters)) or
         "no clusters of faces (ingest with the faces extra installed to find faces)")


MAX_CLUSTER = 2**63 - 1  # SQLite's largest integer: a cluster number is one


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def face_cluster_lines(clusters: list[dict[str, Any]]) -> list[str]:
    lines = []
    for c in clusters:
        who = f"{c['name'] or c['person']} (named)" if c["person"] else ""
        hint = c["suggestion"]
        if hint and not who:
            who = (f"suggested: {hint['name'] or hint['person']} ({hint['person']}), "
                   f"because {hint['why']}")
        withheld = f", {c['withheld']} withheld" if c["withheld"] else ""
        rejected = f"  not: {', '.join(c['rejected'])}" if c["rejected"] else ""
        lines.append(f"cluster {c['cluster']}: {_count(c['size'], 'face')} in "
                     f"{_count(c['items'], 'item')}{withheld}  {who}{rejected}".rstrip())
        lines += [f"    {sample}" for sample in c["samples"]]
    return lines


def _confirm(obj: Context, cluster: int, person: str, event_id: str | None, reject: bool,
             as_json: bool) -> None:
    from archive.ingest.naming import confirm_cluster
    from indexer.sync import sync

    with obj.open() as archive, archive.write_lock(quiet=as_json):
        done = confirm_cluster(archive.catalog, cluster, person, reject, event_id)
        sync(archive, quiet=as_json)
    if as_json:
        emit({"cluster": cluster, "person": person, "written": [d.as_dict() for d in done]})
        return
    for d in done:
        verb = "rejected for" if reject else "named"
        echo(f"cluster {cluster} {verb} {person}: {d.added} of its {d.faces} faces in "
             f"{d.event} added to {d.key} in {d.event_file}; {d.resolved} items changed")


@faces_group.command("name")
@click.argument("cluster", type=click.IntRange(1, MAX_CLUSTER))
@click.argument("person")
@click.option("--event", "event_id", help="Only the faces in this event.")
@json_option
@click.pass_obj
def faces_name(obj: Context, cluster: int, person: str, event_id: str | None,
               as_json: bool) -> None:
    """Confirm that CLUSTER is PERSON (a [[people]] id): its faces become their
    reference faces in the event file, and the archive follows."""
    _confirm(obj, cluster, person, event_id, False, as_json)


@faces_group.command("reject")
@click.argument("cluster", type=click.IntRange(1, MAX_CLUSTER))
@click.argument("person")
@click.option("--event", "event_id", help="Only the faces in this event.")
@json_option
@click.pass_obj
def faces_reject(obj: Context, cluster: int, person: str, event_id: str | None,
                 as_json: bool) -> None:
    """Confirm that CLUSTER is not PERSON: its faces go into their not_faces, and the
    cluster is no longer suggested for them."""
    _confirm(obj, cluster, person, event_id, True, as_json)


@main.command()
@json_option
@click.pass_obj
def reindex(obj: Context, as_json: bool) -> None:
    """Rebuild the search index from the catalog (searches keep working meanwhile)."""
    from indexer.sync import rebuild

    with obj.open() as archive, archive.write_lock(quiet=as_json):
        result = rebuild(archive, "asked for")
    if as_json:
        emit({"revision": result.revision, "items": result.updated,
              "seconds": round(result.seconds, 3)})
    else:
        echo(f"indexed {result.updated:,} items in {result.seconds:.1f} s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=settings.value("threads"),
              show_default=True, help="Threads per worker process.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: number of cores).")
@click.option("--cache-size", type=click.IntRange(0, 100_000),
              default=settings.value("search_cache"), show_default=True,
              help="Recent search results kept, shared by the workers (0: none).")
@click.option("--cache-mb", type=click.IntRange(0, 100_000),
              default=settings.value("search_cache_bytes") // settings.MiB, show_default=True,
              help="Most space those results may take, in MiB (0: none).")
@click.option("--connection-limit", type=click.IntRange(10, 100_000),
              default=settings.value("connection_limit"), show_default=True,
              help="Open connections per worker; an idle one costs a file descriptor, not "
              "a thread.")
@click.option("--channel-timeout", type=click.IntRange(1, 3600),
              default=settings.value("channel_timeout"), show_default=True,
              help="Seconds after which an idle or stalled connection is closed.")
@click.option("--base-url", help="The site's public address, for absolute URLs in JSON-LD "
              "(default: relative URLs).")
@click.option("--curate", is_flag=True, help="Also serve the curator's desk, which edits "
              "event files and the archive: prints a one-time login URL.")
@click.option("--replica", "replica_dir", envvar=REPLICA_ENV_VAR,
              type=click.Path(file_okay=False, path_type=Path),
              help="Keep this node's own replica of the search index in DIR (a local "
              "disk), synced from the catalog at start-up and on a timer, instead of "
              f"reading the archive's index (default: ${REPLICA_ENV_VAR}).")
@click.option("--replica-interval", type=click.FloatRange(0.01, 3600),
              default=settings.value("replica_interval"), show_default=True,
              help="Seconds between the replica's syncs.")
@click.pass_obj
def serve(obj: Context, host: str, port: int, threads: int, workers: int | None,
          cache_size: int, cache_mb: int, connection_limit: int, channel_timeout: int,
          base_url: str | None, curate: bool, replica_dir: Path | None,
          replica_interval: float) -> None:
    """Serve the search site (read-only; with --curate, also the curator's desk) with
    waitress."""
    from web.curate import curator_desk
    from web.serving import serve as run_server

    _check_base_url(base_url)
    with obj.open(readonly=not curate) as archive:  # --curate: fail now if not writable
        if not replica_dir and not archive.index_dir.exists():
            raise ArchiveError(f"{archive.root}: no search index; run 'event-archive "
                               "reindex' first")
    if replica_dir:
        replica_dir = _catch_up_replica(obj, replica_dir)
    else:
        _upgrade_index(obj)
    workers = workers or os.cpu_count() or 1
    config: dict[str, Any] = {"SEARCH_CACHE": cache_size, "BASE_URL": base_url,
                              "SEARCH_CACHE_BYTES": cache_mb * settings.MiB,
                              "REPLICA_DIR": replica_dir}
    with contextlib.ExitStack() as stack:
        if curate:
            desk = stack.enter_context(curator_desk())
            config.update(desk.config)
            # SIGTERM (a service manager) unwinds too, so the folder of login tokens goes;
            # with several workers, the server's own handler takes over from this one.
            signal.signal(signal.SIGTERM, _exit_on_term)
        replicated = f", its search index replicated in {replica_dir}" if replica_dir else ""
        echo(f"serving {obj.archive_dir.resolve()} at http://{_url_host(host)}:{port}/ "
             f"with {workers} worker process(es){replicated} (Ctrl-C to stop)")
        if curate:
            _announce_desk(host, port, base_url, desk.token)
        run_server(obj.archive_dir.resolve(), host, port, threads, workers, config,
                   connection_limit=connection_limit, channel_timeout=channel_timeout,
                   replica_interval=replica_interval)


def _exit_on_term(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _url_host(host: str) -> str:
    """The host as a URL names it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _announce_desk(host: str, port: int, base_url: str | None, token: str) -> None:
    """Print the desk's one-time login URL, as notebook servers do (on the address a
    browser of this machine reaches when the site listens on every address)."""
    local = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    base = (base_url or f"http://{_url_host(local)}:{port}").rstrip("/")
    echo(f"curator's desk: {base}/curate/login?token={token}")
    echo("  (the link logs one browser in, once; a logged-in curator can make more)")
    if local not in ("127.0.0.1", "::1", "localhost") and not (base_url or "").startswith(
            "https:"):
        echo(f"warning: the curator's desk can be reached from the network on {host}, and "
             "its login link and session cookie travel unencrypted over HTTP; serve it "
             "behind HTTPS (--base-url https://…)", err=True)


def _catch_up_replica(obj: Context, folder: Path) -> Path:
    """Bring the node's index replica to the catalog's revision before serving (built
    from the whole catalog the first time, rebuilt when damaged or outdated); returns
    its absolute path."""
    from indexer.replica import Replica

    replica = Replica(folder.resolve(), obj.archive_dir.resolve())
    replica.prepare()
    replica.catch_up(wait=True, quiet=obj.verbose < 0, deep=True)
    return replica.folder


def _upgrade_index(obj: Context) -> None:
    """An index an older version made is rebuilt before serving, when the archive can be
    written and no ingest is writing it; else the site says to run `reindex`."""
    from indexer.generations import current_dir, read_schema
    from indexer.schema import SCHEMA_VERSION
    from indexer.sync import rebuild

    with obj.open(readonly=True) as archive:
        folder = current_dir(archive.index_dir)
        if folder is None or read_schema(folder) == SCHEMA_VERSION:
            return
    try:
        with obj.open() as archive, archive.write_lock(wait=False):
            rebuild(archive, "made by an older version of event-archive", quiet=False)
    except ArchiveError as exc:  # busy, or read-only: the site says what to do
        echo(f"warning: the search index is outdated and was not rebuilt: {exc}", err=True)


@main.command("batch-ingest")
@click.argument("roots", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: number of cores).")
@click.option("--wait", is_flag=True, help="Wait for another ingest instead of exiting.")
@broker_option
@json_option
@click.pass_obj
def batch_ingest_command(obj: Context, roots: tuple[Path, ...], jobs: int | None, wait: bool,
                         broker: str | None, as_json: bool) -> None:
    """Ingest every event folder (one holding event.toml) under ROOTS; exit 1 if any
    event failed. Safe from cron: a second run exits (or, with --wait, waits)."""
    from archive.ingest.batch import batch_ingest, table
    from indexer.sync import sync

    workers = _broker(broker)  # before anything is written
    with obj.open(create=True) as archive, archive.write_lock(wait=wait,
                                                     quiet=as_json):
        lines = batch_ingest(archive, list(roots), jobs, obj.debug, quiet=as_json,
                             broker=workers)
        if any(line.ok for line in lines):
            sync(archive)
    if as_json:
        emit([{"folder": str(line.folder), "ok": line.ok, "error": line.error,
               "summary": line.summary.as_dict() if line.summary else None}
              for line in lines])
    else:
        echo(table(lines))
    if not lines or not all(line.ok for line in lines):
        sys.exit(1)


@main.command()
@click.option("--broker", metavar="URL", envvar=BROKER_ENV, required=True,
              help="The Redis that ingests send files through, redis://HOST[:PORT][/DB] "
              "(default: $EVENT_ARCHIVE_BROKER).")
@click.option("--concurrency", "-c", type=click.IntRange(1, 256), default=None,
              help="Processes reading files (default: number of cores).")
@click.option("--name", help="This worker's node name, unique among the broker's workers "
              "(default: event-archive-PID@HOST).")
@click.pass_obj
def worker(obj: Context, broker: str, concurrency: int | None, name: str | None) -> None:
    """Read the files that 'ingest --broker' sends, until stopped: SIGTERM or Ctrl-C
    finish the files being read first. Run it on any machine that sees the event folders
    and the archive directory at the paths the ingest gives them."""
    checked = _broker(broker)
    if checked is None:
        raise click.BadParameter("a worker needs the Redis URL", param_hint="--broker")
    from archive.ingest.worker import default_name, run_worker

    name = name or default_name()
    concurrency = concurrency or os.cpu_count() or 1
    loglevel = "WARNING" if obj.verbose < 1 else "INFO" if obj.verbose == 1 else "DEBUG"
    if obj.verbose >= 0:
        echo(f"worker {name}: {concurrency} process(es) reading the files sent to "
             f"{checked.shown} (Ctrl-C to stop)")
    sys.exit(run_worker(broker, concurrency, name, loglevel))


@main.command()
@click.option("--no-hashes", is_flag=True, help="Compare each file's kind, size and date "
              "with the catalog instead of re-reading its content.")
@json_option
@click.pass_obj
def verify(obj: Context, no_hashes: bool, as_json: bool) -> None:
    """Check the catalog, files, thumbnails and index; repair what can be rebuilt."""
    from archive.outputs.verify import verify_archive
    from indexer.check import check_index

    with obj.open() as archive, archive.write_lock(quiet=as_json):
        result = verify_archive(archive, hashes=not no_hashes)
        # An index rebuilt from a damaged catalog would lose what the catalog lost.
        problems, repaired = check_index(archive) if result.catalog_ok else ([], [])
    result.found += problems
    result.repaired += repaired
    if as_json:
        # "problems" as lines, as ever; "details": the same problems, field by field.
        emit({"ok": result.ok, "files_checked": result.checked,
              "problems": result.problems, "repaired": result.repaired,
              "details": [problem.as_dict() for problem in result.found]})
    else:
        for line in result.repaired:
            echo(f"repaired: {line}")
        for line in result.problems:
            echo(f"problem: {line}", err=True)
        echo(f"verified {result.checked:,} files: "
             + ("ok" if result.ok else f"{len(result.problems)} problem(s)"))
    if not result.ok:
        sys.exit(1)


def run() -> None:
    """Entry point: Ctrl-C and closed pipes end quietly; the group handles user errors."""
    try:
        code = main.main(standalone_mode=False)
    except click.exceptions.Abort:
        echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        echo("interrupted; the catalog keeps every finished batch, run again to "
             "complete", err=True)
        sys.exit(130)
    except BrokenPipeError:
        os._exit(0)
    sys.exit(code if isinstance(code, int) else 0)
