"""Ingest workers on Celery with Redis as the broker (`ingest --broker`, `event-archive
worker`), tested against a real Redis and real worker processes: the catalog a local
ingest makes, and kills of a worker or of the committer that lose and double nothing."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from kombu import serialization

from archive.catalog import problems_of_event
from archive.cli import main
from archive.ingest.pipeline import ingest_folder
from archive.ingest.queue import examined
from archive.ingest.remote import Broker
from archive.ingest.tasks import Outcome, Task
from archive.ingest.wire import outcome_from_json, outcome_to_json
from archive.model import Face, Problem, Thumbnail, UnscannedItem
from archive.outputs.itemjson import items_json, selected_items
from archive.store import Archive

from helpers.archives import snapshot
from helpers.media import make_jpeg, make_video
from helpers.processes import EVENT_ARCHIVE, catalogued, free_port, poll_until, stopped_when
from helpers.services import RedisServer
from helpers.workers import Worker, fresh_database, running_workers, start_worker, wait_answering

PHOTOS = 200
PHOTOS_BESIDE = 8  # beside the video
EVENT_FILE = '[event]\nid = "queued"\ntitle = "Queued"\n[credit]\norganisation = "ASEV"\n'


@pytest.fixture
def broker_url(redis_server) -> str:  # noqa: ANN001 (helpers.services.RedisServer)
    return fresh_database(redis_server)


@pytest.fixture(scope="module")
def video_event(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Photos and a video whose reading (ffprobe, ffmpeg) a test can watch for."""
    folder = tmp_path_factory.mktemp("video-event")
    (folder / "event.toml").write_text(EVENT_FILE, encoding="utf-8")
    for i in range(PHOTOS_BESIDE):
        make_jpeg(folder / f"IMG_{i:04d}.jpg", size=(200 + i, 150))
    make_video(folder / "talk.mp4", seconds=4, size="640x480")
    return folder


@pytest.fixture(scope="module")
def many_photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("queued-event")
    (folder / "event.toml").write_text(EVENT_FILE, encoding="utf-8")
    for i in range(PHOTOS):
        make_jpeg(folder / f"d{i % 4}" / f"IMG_{i:04d}.jpg", size=(120 + i, 90))
    return folder


def _catalogued(root: Path) -> dict[str, object]:
    """What an ingest left, as the project gives it: each item's JSON (id, kind, time,
    sessions, people, credit, thumbnails, faces) and stored metadata, and every file and
    problem of the catalog."""
    with Archive.open(root, readonly=True) as archive:
        db = archive.catalog
        items = items_json(db, selected_items(db))
        return {
            "items": sorted(items, key=lambda item: item["id"]),
            "metadata": sorted(tuple(r) for r in db.query("SELECT id, metadata FROM items")),
            "files": sorted(tuple(r) for r in db.query(
                "SELECT path, item_id, state, role FROM files")),
            "problems": sorted((p.path, p.stage, p.message) for event in {
                i["event"] for i in items} for p in problems_of_event(db, event)),
        }


def _ingest(root: Path, folder: Path, url: str, stderr: Path) -> subprocess.Popen:
    with stderr.open("w", encoding="utf-8") as err:
        return subprocess.Popen([str(EVENT_ARCHIVE), "--archive", str(root), "ingest",
                                 "--broker", url, str(folder)], stdout=subprocess.PIPE,
                                stderr=err, stdin=subprocess.DEVNULL, text=True)


def _finish(ingest: subprocess.Popen, stderr: Path) -> str:
    """The ingest's standard output, once it ended well."""
    try:
        out, _ = ingest.communicate(timeout=300)
    finally:
        ingest.kill()
    assert ingest.returncode == 0, stderr.read_text()
    return out


@pytest.mark.slow
@pytest.mark.engines  # into either catalog, the same as a local ingest into SQLite's
def test_an_ingest_through_two_workers_makes_the_catalog_a_local_ingest_makes(
        tmp_path: Path, sample: Path, sample_archive_sqlite: Path, broker_url: str,
        archive_dir: Path) -> None:
    root, stderr = archive_dir, tmp_path / "ingest.err"
    ingest = _ingest(root, sample, broker_url, stderr)
    try:
        # With no worker yet, the files wait in the queue, and the ingest says so.
        poll_until(lambda: "no ingest worker answers" in stderr.read_text()
                   or ingest.poll() is not None, "the notice that no worker answers")
        assert ingest.poll() is None, stderr.read_text()
        with running_workers(broker_url, tmp_path, 2, "-v") as workers:
            out = _finish(ingest, stderr)
    finally:
        ingest.kill()
    assert "59 added" in out, out
    assert _catalogued(root) == _catalogued(sample_archive_sqlite)
    for worker in workers:  # both took their share
        assert "succeeded in" in worker.output(), worker.output()


@pytest.mark.slow
def test_a_worker_killed_with_its_machine_mid_file_loses_and_doubles_nothing(
        tmp_path: Path, video_event: Path, broker_url: str) -> None:
    with Archive.open(tmp_path / "reference") as archive:
        ingest_folder(archive, video_event, jobs=2, progress=False)
    video = video_event / "talk.mp4"
    root, stderr = tmp_path / "archive", tmp_path / "ingest.err"
    with running_workers(broker_url, tmp_path, 2) as workers:
        ingest = _ingest(root, video_event, broker_url, stderr)
        try:
            busy = poll_until(lambda: next((w for w in workers if w.reading(video)), None)
                              or ingest.poll() is not None, "a worker reading the video",
                              interval=0.002)
            assert isinstance(busy, Worker), "the ingest ended before the video was read"
            busy.kill()  # the worker, its pool and their ffmpeg: the machine stopped
            out = _finish(ingest, stderr)
        finally:
            ingest.kill()
    # The other worker answers for the file the killed one had started.
    assert "talk.mp4: its worker worker" in stderr.read_text(), stderr.read_text()
    assert f"{PHOTOS_BESIDE + 1} added" in out and "failed" not in out, out
    assert _catalogued(root) == _catalogued(tmp_path / "reference")


@pytest.mark.slow
def test_a_killed_committer_is_completed_by_a_rerun_without_loss_or_double(
        tmp_path: Path, many_photos: Path, broker_url: str) -> None:
    with Archive.open(tmp_path / "reference") as archive:
        ingest_folder(archive, many_photos, jobs=2, progress=False)
    root, stderr = tmp_path / "archive", tmp_path / "ingest.err"
    with running_workers(broker_url, tmp_path, 2):
        ingest = _ingest(root, many_photos, broker_url, stderr)
        try:
            assert stopped_when(ingest, lambda: catalogued(root), "a committed batch"), \
                "the ingest ended before a batch was seen committed"
            ingest.send_signal(signal.SIGKILL)
        finally:
            ingest.send_signal(signal.SIGCONT)
        ingest.communicate(timeout=60)
        partial = catalogued(root, mode="rw")
        assert partial is not None and 0 < partial < PHOTOS, f"{partial} items after the kill"
        # The re-run waits only for its own files, not for those the killed one queued.
        again = subprocess.run([str(EVENT_ARCHIVE), "--archive", str(root), "ingest",
                                "--broker", broker_url, str(many_photos)],
                               capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{PHOTOS - partial} added" in again.stdout, again.stdout
    assert snapshot(root) == snapshot(tmp_path / "reference")


@pytest.mark.slow
def test_a_file_that_kills_its_worker_every_time_ends_as_a_problem_read_again_later(
        tmp_path: Path, video_event: Path, broker_url: str) -> None:
    video = video_event / "talk.mp4"
    root, stderr = tmp_path / "archive", tmp_path / "ingest.err"
    with running_workers(broker_url, tmp_path, 1) as (worker,):
        ingest = _ingest(root, video_event, broker_url, stderr)
        try:
            for _ in range(3):  # broker_deliveries: handed out three times, then given up
                process = poll_until(lambda: worker.reading(video) or ingest.poll() is not None,
                                     "the worker reading the video", interval=0.002)
                assert ingest.poll() is None, stderr.read_text()
                process.kill()  # as the kernel's OOM killer would
                process.wait(timeout=60)
            out = _finish(ingest, stderr)
        finally:
            ingest.kill()
        assert f"{PHOTOS_BESIDE} added" in out and "1 failed" in out, out
        assert (f"{video}: [worker] given up after 3 workers were lost reading this file"
                in stderr.read_text()), stderr.read_text()
        again = _finish(_ingest(root, video_event, broker_url, stderr), stderr)
    assert f"1 added, 0 updated, {PHOTOS_BESIDE} unchanged" in again, again


@pytest.mark.slow
def test_a_file_past_its_time_limit_is_recorded_for_the_next_ingest(
        tmp_path: Path, broker_url: str) -> None:
    event = tmp_path / "event"
    # Its poster and strip take seconds, far past the limit, whatever the machine's load.
    video = make_video(event / "talk.mp4", seconds=8, size="1280x720")
    with running_workers(broker_url, tmp_path, 1), Archive.open(tmp_path / "a") as archive:
        summary = ingest_folder(archive, event, progress=False, timeout=0.5,
                                broker=Broker.connect(broker_url))
    assert (summary.added, summary.failed) == (0, 1)
    (problem,) = summary.errors
    assert (problem["path"], problem["stage"]) == (str(video), "worker")
    assert problem["message"].startswith("timed out"), problem
    # The broker's connections left nothing that hangs a pool forked after them.
    for n in range(4):
        make_jpeg(tmp_path / "photos" / f"{n}.jpg", size=(64 + n, 48))
    with Archive.open(tmp_path / "local") as archive:
        summary = ingest_folder(archive, tmp_path / "photos", jobs=2, progress=False,
                                timeout=60)
    assert (summary.added, summary.failed) == (4, 0)


@pytest.mark.slow
def test_a_broker_lost_mid_ingest_is_one_line_and_the_committed_batches_stay(
        tmp_path: Path, many_photos: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()  # of its own: this test stops it
    url, root, stderr = redis.url, tmp_path / "archive", tmp_path / "ingest.err"
    worker = start_worker(url, tmp_path, "worker", "--concurrency", "1")
    try:
        wait_answering(url, [worker])
        ingest = _ingest(root, many_photos, url, stderr)
        try:
            assert stopped_when(ingest, lambda: catalogued(root), "a committed batch")
            redis.stop()
        finally:
            ingest.send_signal(signal.SIGCONT)
        out, _ = ingest.communicate(timeout=120)
    finally:
        worker.kill()  # it would try to reconnect for ever
        redis.stop()
    assert ingest.returncode == 1
    (line,) = [line for line in stderr.read_text().splitlines() if "error" in line]
    assert line.startswith(f"error: lost the broker at {url}") and "run ingest again" in line
    assert 0 < (catalogued(root, mode="rw") or 0) < PHOTOS


@pytest.mark.parametrize(("command", "url", "said"), [
    ("ingest", "redis://127.0.0.1:{port}/0", "cannot reach the broker at redis://127.0.0.1"),
    ("batch-ingest", "redis://127.0.0.1:{port}/0", "cannot reach the broker at"),
    ("worker", "redis://127.0.0.1:{port}/0", "cannot reach the broker at"),
    ("ingest", "amqp://127.0.0.1:{port}//", "the broker must be Redis"),
])
def test_a_broker_that_cannot_be_used_is_one_line_and_nothing_is_written(
        tmp_path: Path, command: str, url: str, said: str) -> None:
    event = tmp_path / "event"
    make_jpeg(event / "photo.jpg")
    root = tmp_path / "archive"
    args = [] if command == "worker" else [str(event)]
    result = CliRunner().invoke(main, ["--archive", str(root), command, *args],
                                env={"EVENT_ARCHIVE_BROKER": url.format(port=free_port())})
    assert result.exit_code == 1, result.output
    (line,) = result.output.splitlines()
    assert line.startswith("error: ") and said in line, line
    assert not root.exists()


def test_tasks_and_outcomes_cross_the_broker_as_json_unchanged() -> None:
    name = "caf\udce9/IMG 1.jpg"  # a name that is not UTF-8
    task = Task(f"/e/{name}", name, 10, 20, (("/e/x.xmp", 3, 4),), "/a", faces=True)
    outcome = Outcome(task, "ab" * 32, "photo", "image/jpeg", {"camera": {"make": "X"},
                      "list": [1, 2.5, None]}, {"small": {"path": "thumbs/ab/x.jpg",
                                                         "width": 3, "height": 2}},
                      [Problem(task.path, "extract", "warning", "odd")],
                      [Face((1, 2, 3, 4), 0.5, bytes(range(256)) * 2, 1.5), Face((5, 6, 7, 8),
                                                                                 -0.25)])
    scan = Task("/e/v.mp4", "v.mp4", 1, 0, (), "/a", faces=True, scan=UnscannedItem(
        "cd" * 32, "video", "/e/v.mp4", "v.mp4", 1, {"duration": 2.0},
        {"large": Thumbnail("thumbs/cd/y.jpg", 10, 8)}))
    for value in (outcome, Outcome(scan, scan.scan.id if scan.scan else None)):
        content_type, encoding, data = serialization.dumps(outcome_to_json(value), "json")
        assert outcome_from_json(serialization.loads(data, content_type, encoding)) == value
    assert json.loads(data)  # plain JSON: nothing a worker would run


def test_a_worker_gives_up_on_a_file_handed_out_too_often_without_reading_it(
        tmp_path: Path) -> None:
    task = Task(str(tmp_path / "gone.jpg"), "gone.jpg", 1, 0, (), str(tmp_path))
    outcome = examined(task, delivery=4)
    (problem,) = outcome.problems
    assert (problem.stage, outcome.item_id) == ("worker", None)
    assert problem.message.startswith("given up after 3 workers were lost")


@pytest.mark.parametrize("archive", ["not-mounted", "empty-mount-point"])
def test_a_worker_that_does_not_see_the_archive_says_so_and_leaves_the_file(
        tmp_path: Path, archive: str) -> None:
    make_jpeg(tmp_path / "event" / "photo.jpg")
    (tmp_path / "empty-mount-point" / "thumbs").mkdir(parents=True)  # no catalog in it
    task = Task(str(tmp_path / "event" / "photo.jpg"), "photo.jpg", 1, 0, (),
                str(tmp_path / archive))
    (problem,) = examined(task, delivery=1).problems
    assert problem.stage == "worker" and "does not see the archive directory" in \
        problem.message and problem.message.endswith("the next ingest tries again")


def test_a_worker_whose_event_folder_is_an_empty_mount_point_leaves_the_file(
        tmp_path: Path) -> None:
    """The folder is there, the file is not (a mount point with nothing mounted): a
    problem of the worker, read again by the next ingest, not the file's own error."""
    Archive.open(tmp_path / "archive").close()
    (tmp_path / "event").mkdir()
    task = Task(str(tmp_path / "event" / "photo.jpg"), "photo.jpg", 1, 0, (),
                str(tmp_path / "archive"))
    outcome = examined(task, delivery=1)
    (problem,) = outcome.problems
    assert (problem.stage, outcome.item_id) == ("worker", None)
    assert "does not see" in problem.message and "photo.jpg" in problem.message
