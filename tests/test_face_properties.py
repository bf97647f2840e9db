"""Property-based tests of what users write about faces (a `path#n` in event.toml, XMP
face regions from any editor) and of the clustering's promises."""

from __future__ import annotations

import posixpath

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.media.extract.xmp import XmpError, parse_packet
from archive.model import FaceRef
from archive.resolve.clusters import Member, cluster_faces
from archive.resolve.eventfile import face_ref
from archive.resolve.facenames import region_box

PATHS = st.text(st.sampled_from("ab#é/ ._-1"), min_size=1, max_size=12).filter(
    lambda p: p.strip() and not p.startswith("/") and ".." not in p.split("/"))


@given(st.sampled_from(["./", ".", "./ ", "./."]), st.integers(1, 9))
def test_the_event_folder_itself_is_no_file(path: str, number: int) -> None:
    with pytest.raises(ValueError, match="names no file"):
        face_ref(f"{path}#{number}")


@given(st.text(max_size=40))
def test_any_text_is_a_face_or_a_value_error(value: str) -> None:
    try:
        ref = face_ref(value)
    except ValueError:
        return
    assert ref.number >= 1 and ref.path and not ref.path.startswith("/")
    assert face_ref(str(ref)) == ref  # what `faces name` writes reads back the same


@given(PATHS, st.integers(1, 99_999))
def test_every_face_written_reads_back(path: str, number: int) -> None:
    normal = posixpath.normpath(path)
    if normal == "." or not normal.strip():  # the folder itself, or ' /'
        with pytest.raises(ValueError, match="names no file"):
            face_ref(f"{path}#{number}")
        return
    ref = face_ref(f"{path}#{number}")
    assert ref.number == number and face_ref(str(ref)) == ref


NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                    st.sampled_from(["", "x", "0", "1", "-0.5", "1e309", "0x10", " 0.3 "]))


@given(NUMBERS, NUMBERS, NUMBERS, NUMBERS, st.text(max_size=20), NUMBERS)
def test_any_region_is_read_or_left_out(x: str, y: str, w: str, h: str, name: str,
                                        width: str) -> None:
    def attr(value: str) -> str:
        return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")

    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        '02/22-rdf-syntax-ns#"><rdf:Description xmlns:mwg-rs="http://www.metadataworking'
        'group.com/schemas/regions/" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" '
        'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"><mwg-rs:Regions '
        f'rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="{attr(width)}" '
        'stDim:h="10"/><mwg-rs:RegionList><rdf:Bag><rdf:li><rdf:Description '
        f'mwg-rs:Name="{attr(name)}"><mwg-rs:Area stArea:x="{attr(x)}" stArea:y="{attr(y)}"'
        f' stArea:w="{attr(w)}" stArea:h="{attr(h)}"/></rdf:Description></rdf:li>'
        '</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF>'
        '</x:xmpmeta>').encode("utf-8", "surrogatepass")
    try:
        regions = parse_packet(packet)["face_regions"]
    except (XmpError, UnicodeEncodeError):
        return
    for region in regions:
        left, top, width_, height = region["box"]
        assert -0.5 <= left <= 1 and -0.5 <= top <= 1 and 0 < width_ <= 1 and 0 < height <= 1
        assert region["name"].strip()
        box = region_box(region, (300, 200), (200, 300), 6)
        assert all(np.isfinite(box)) and all(-150 <= v <= 300 for v in box)


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 2),
                          st.booleans()), min_size=1, max_size=30))
def test_clusters_never_hold_two_faces_of_one_picture_and_old_ones_stay(
        faces: list[tuple[int, int, int, bool]]) -> None:
    """Faces of a few people (near copies of one vector each) in a few pictures, some
    clustered before: a picture never has two faces in one cluster, old faces keep
    theirs, and the same input gives the same clusters."""
    people = np.random.default_rng(0).normal(size=(4, 128))
    people /= np.linalg.norm(people, axis=1)[:, None]
    members: list[Member] = []
    for n, (picture, person, _noise, _old) in enumerate(faces):
        jitter = np.random.default_rng(n).normal(scale=0.01, size=128)
        members.append(Member((f"p{picture}", None),
                              (people[person] + jitter).astype("<f4").tobytes()))
    old = [m for m, f in zip(members, faces, strict=True) if f[3]]
    old = [Member(m.picture, m.descriptor, n + 1) for n, m in enumerate(old)
           if m.picture not in {o.picture for o in old[:n]}]
    new = [m for m, f in zip(members, faces, strict=True) if not f[3]]
    assigned = cluster_faces(old, new)
    assert assigned == cluster_faces(old, new)
    seen: set[tuple[int, tuple[str, float | None]]] = set()
    for member, cluster in [*((m, m.cluster) for m in old), *zip(new, assigned, strict=True)]:
        assert (cluster, member.picture) not in seen
        seen.add((cluster, member.picture))


def test_a_region_drawn_on_the_stored_image_turns_with_the_photo() -> None:
    region = {"box": [0.0, 0.0, 0.25, 0.5], "applied_to": [400, 200]}  # top-left, stored
    shown, stored = (200, 400), (400, 200)  # orientation 6: turned clockwise
    assert region_box(region, shown, stored, 6) == (100.0, 0.0, 100.0, 100.0)  # top right
    assert region_box(region, shown, stored, 8) == (0.0, 300.0, 100.0, 100.0)  # bottom left
    drawn_on_shown = {**region, "applied_to": [200, 400]}
    assert region_box(drawn_on_shown, shown, stored, 6) == (0.0, 0.0, 50.0, 200.0)
    assert FaceRef("a.jpg", 2) < FaceRef("a.jpg", 10)
