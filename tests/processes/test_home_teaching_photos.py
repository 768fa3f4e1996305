"""Issue 11: a home-teaching visit's optional photos (``ledger.task_photos``). JPEG or PNG by
content, at most 5 MB and 4 a visit, stored with their SHA-256 (also on the case's audit
chain), the workflow keeping only the hashes; served only to who may see the case, logged.
The town and the case's steps are test_home_teaching's."""
from __future__ import annotations

import hashlib
import io
import json

from PIL import Image
from sqlalchemy import select

from engine.persistence.models import WorkflowState
from ledger.models import AccessLog
from ledger.task_photo_models import TaskPhoto
from tests.web.conftest import csrf_token, sign_in

from .test_home_teaching import through_plan, visit


def picture(kind: str = "JPEG", size=(64, 48), colour=(200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def send(town, photos, data=None, user="tzx", element="visit"):
    """A multipart completion of the user's ``element`` task: ``photos`` [(filename, bytes, declared type)]."""
    task = town.task(user, element)
    body = {"data": json.dumps(data if data is not None else visit("2025-10-21")),
            "visit_photos": [(io.BytesIO(content), name, kind) for name, content, kind in photos]}
    return town.client.post(f"/api/v1/tasks/{task['task_id']}/complete", headers=town.headers(user),
                            data=body, content_type="multipart/form-data")


def visit_day(town):
    case = through_plan(town)
    town.pass_until("2025-10-21", 8)
    town.at("2025-10-21", 17)
    return case


def stored(town) -> list[TaskPhoto]:
    with town.engine.db.read() as session:
        rows = list(session.scalars(select(TaskPhoto).order_by(TaskPhoto.id)))
        session.expunge_all()
        return rows


def page(town, username):
    client = town.app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def test_a_visit_keeps_its_photos_by_hash_and_the_hashes_go_to_the_audit_trail(scenario):
    town = scenario
    case = visit_day(town)
    jpeg, png = picture("JPEG"), picture("PNG", colour=(10, 200, 90))
    response = send(town, [("课堂.jpg", jpeg, "image/jpeg"), ("手工.png", png, "image/png")])
    assert response.status_code == 200, response.json
    rows = stored(town)
    hashes = [hashlib.sha256(r.content).hexdigest() for r in rows]      # of the bytes kept (no metadata)
    assert town.data(case.id, "visit")["visit_photos"] == hashes
    assert [(r.sha256, r.media_type, r.position, r.size) for r in rows] == [
        (hashes[0], "image/jpeg", 1, len(rows[0].content)), (hashes[1], "image/png", 2, len(rows[1].content))]
    assert {r.instance_id for r in rows} == {case.id}
    assert Image.open(io.BytesIO(rows[0].content)).size == (64, 48)
    assert Image.open(io.BytesIO(rows[1].content)).tobytes() == Image.open(io.BytesIO(png)).tobytes()
    events = town.audit(case.id, "photo_stored")
    assert [(e.data["sha256"], e.data["photo_id"], e.actor) for e in events] == [
        (hashes[0], rows[0].id, "tzx"), (hashes[1], rows[1].id, "tzx")]
    assert town.history_verified(case.id)
    with town.engine.db.read() as session:                      # no image bytes in the case's state
        state = session.get(WorkflowState, case.id).state
    assert len(state) < 200_000 and hashes[0] in (state if isinstance(state, str) else state.decode())


def test_a_photo_keeps_no_gps_position_and_stands_upright(scenario):
    """A phone's EXIF (here a GPS position and a 90° orientation) is not kept: the stored
    picture has no metadata and its pixels are turned as the phone meant."""
    town = scenario
    visit_day(town)
    exif = Image.Exif()
    exif[0x0112] = 6                                            # orientation: rotate 90° clockwise
    exif.get_ifd(0x8825).update({1: "N", 2: (25.0, 30.0, 0.0), 3: "E", 4: (118.0, 10.0, 0.0)})   # GPS
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(0x8825)      # the upload has a position
    response = send(town, [("家里.jpg", out.getvalue(), "image/jpeg")])
    assert response.status_code == 200, response.json
    (row,) = stored(town)
    kept = Image.open(io.BytesIO(row.content))
    assert not kept.getexif() and b"Exif" not in row.content and kept.size == (48, 64)


def test_the_content_decides_not_the_name(scenario):
    town = scenario
    visit_day(town)
    png = picture("PNG")
    response = send(town, [("scan.txt", png, "text/plain")])     # a PNG by its bytes: accepted as PNG
    assert response.status_code == 200, response.json
    assert [r.media_type for r in stored(town)] == ["image/png"]


def test_a_photo_too_large_is_a_413_naming_the_field_and_nothing_is_stored(scenario):
    town = scenario
    case = visit_day(town)
    big = picture("PNG") + b"\0" * (5 * 1024 * 1024)
    response = send(town, [("ok.jpg", picture(), "image/jpeg"), ("big.png", big, "image/png")])
    assert response.status_code == 413, response.json
    assert set(response.json["errors"]) == {"visit_photos"} and "第 2 张照片（big.png）超过 5 MB" in \
        response.json["errors"]["visit_photos"]
    assert stored(town) == [] and town.names("tzx") == ["unscheduled_visit", "visit"]
    assert town.audit(case.id, "photo_stored") == []


def test_not_a_jpeg_or_png_is_a_422_naming_the_field(scenario):
    town = scenario
    visit_day(town)
    gif = picture("GIF")
    truncated = picture("JPEG", size=(400, 300))[:300]
    for name, content in (("动图.jpg", gif), ("半张.jpg", truncated), ("note.jpg", "不是图片".encode())):
        response = send(town, [(name, content, "image/jpeg")])
        assert response.status_code == 422, (name, response.json)
        assert response.json["errors"] == {"visit_photos": f"第 1 张照片（{name}）不是 JPEG 或 PNG 图片（按文件内容判断，与文件名无关）"}
    assert stored(town) == [] and "visit" in town.names("tzx")


def test_at_most_four_photos_hashes_never_as_data_and_a_bad_form_keeps_no_photo(scenario):
    town = scenario
    visit_day(town)
    five = [(f"{n}.png", picture("PNG", colour=(n, n, n)), "image/png") for n in range(5)]
    response = send(town, five)
    assert response.status_code == 422 and response.json["errors"] == {"visit_photos": "最多上传 4 张照片"}
    typed = town.client.post(f"/api/v1/tasks/{town.task('tzx', 'visit')['task_id']}/complete",
                             headers=town.headers("tzx"),
                             json={"data": {**visit("2025-10-21"), "visit_photos": ["ab" * 32]}})
    assert typed.status_code == 422 and set(typed.json["errors"]) == {"visit_photos"}
    without_content = {k: v for k, v in visit("2025-10-21").items() if k != "visit_content"}
    response = send(town, [("a.jpg", picture(), "image/jpeg")], data=without_content)
    assert response.status_code == 422 and set(response.json["errors"]) == {"visit_content"}
    assert stored(town) == []
    bad_data = town.client.post(f"/api/v1/tasks/{town.task('tzx', 'visit')['task_id']}/complete",
                                headers=town.headers("tzx"), data={"data": "[1, 2]"},
                                content_type="multipart/form-data")
    assert bad_data.status_code == 422 and set(bad_data.json["errors"]) == {"data"}


def test_photos_are_served_only_within_the_case_and_every_view_is_logged(scenario):
    town = scenario
    case = visit_day(town)
    jpeg = picture()
    assert send(town, [("课堂.jpg", jpeg, "image/jpeg")]).status_code == 200
    [row] = stored(town)
    url = f"/instances/{case.id}/photos/{row.id}"
    for user in ("tzx", "pzx", "dpf"):                           # the teacher, the principal, the federation
        response = page(town, user).get(url)
        assert response.status_code == 200, user
        assert response.data == row.content and response.mimetype == "image/jpeg"
        assert response.headers["Content-Disposition"] == f'inline; filename="case-{case.id}-photo-{row.id}.jpg"'
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response.headers["Cache-Control"]
    for user in ("ht11", "pfg", "ht32", "vsfg"):                # another school, another class, another village
        assert page(town, user).get(url).status_code == 404, user
    assert page(town, "tzx").get(f"/instances/{case.id + 1}/photos/{row.id}").status_code == 404
    with town.engine.db.read() as session:
        logged = [(r.username, json.loads(r.detail)) for r in session.scalars(
            select(AccessLog).where(AccessLog.subject == "child:1")) if '"view": "photo"' in r.detail]
    assert [(u, d["photo_id"], d["sha256"]) for u, d in logged] == [
        (u, row.id, row.sha256) for u in ("tzx", "pzx", "dpf")]


def test_the_task_page_takes_photos_and_shows_a_bad_one_beside_its_field(scenario):
    town = scenario
    case = visit_day(town)
    client = page(town, "tzx")
    task_id = town.task("tzx", "visit")["task_id"]
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html and 'accept="image/jpeg,image/png"' in html
    fields = {k: ("true" if v is True else str(v)) for k, v in visit("2025-10-21").items()}
    token = csrf_token(client, f"/tasks/{task_id}")
    refused = client.post(f"/tasks/{task_id}", data={**fields, "csrf_token": token,
                                                     "visit_photos": [(io.BytesIO(b"GIF89a..."), "x.jpg")]},
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "第 1 张照片（x.jpg）不是 JPEG 或 PNG 图片" in refused.get_data(as_text=True) and stored(town) == []
    done = client.post(f"/tasks/{task_id}", data={**fields, "csrf_token": token,
                                                  "visit_photos": [(io.BytesIO(picture()), "a.jpg"),
                                                                   (io.BytesIO(b""), "")]},
                       content_type="multipart/form-data")
    assert done.status_code == 302, done.get_data(as_text=True)
    [row] = stored(town)
    assert town.data(case.id, "visit")["visit_photos"] == [row.sha256]
    shown = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'src="/instances/{case.id}/photos/{row.id}"' in shown


def test_a_submitted_visits_photos_are_shown_as_pictures_wherever_the_visit_is_shown(scenario):
    """The case page's history, the visit's task page and the term record show the photos
    (each served under the case's rule, each view logged), never their hashes."""
    town = scenario
    case = visit_day(town)
    assert send(town, [("课堂.jpg", picture(), "image/jpeg"), ("手工.png", picture("PNG"), "image/png")]).status_code == 200
    rows = stored(town)
    task_id = rows[0].task_id
    client = page(town, "pzx")
    for path in (f"/instances/{case.id}", f"/tasks/{task_id}", f"/instances/{case.id}/home-teaching/visits"):
        shown = client.get(path).get_data(as_text=True)
        for row in rows:
            assert f'<img src="/instances/{case.id}/photos/{row.id}"' in shown, path
            assert row.sha256 not in shown and row.sha256[:12] not in shown, path
        assert "2 张照片" in shown or "（照片 2 张）" in shown, path
    assert client.get(f"/instances/{case.id}/photos/{rows[1].id}").status_code == 200
    with town.engine.db.read() as session:
        logged = [json.loads(r.detail) for r in session.scalars(select(AccessLog).where(AccessLog.username == "pzx"))]
    assert {"view": "photo", "photo_id": rows[1].id}.items() <= next(d for d in logged if d.get("view") == "photo").items()
    assert page(town, "ht11").get(f"/instances/{case.id}/photos/{rows[0].id}").status_code == 404


def test_a_submission_above_the_total_limit_is_a_chinese_413_naming_the_limit(scenario):
    """Above the whole body's limit nothing is read: the REST answer is the JSON shape of
    every 4xx ({code, message, errors}) in Chinese with the limits, the page a Chinese page
    saying them; nothing stored, the task still open. One photo above 5 MB inside that limit
    is named beside its field on the form re-shown with what was typed."""
    town = scenario
    visit_day(town)
    huge = b"\xff" * (22 * 1024 * 1024)
    response = send(town, [("大.jpg", huge, "image/jpeg")])
    assert response.status_code == 413
    assert response.json["code"] == "too_large" and set(response.json) == {"code", "message", "errors"}
    assert "每张不超过 5 MB" in response.json["message"] and "合计不超过 21 MB" in response.json["message"]
    assert response.json["errors"] == {"body": response.json["message"]}
    client = page(town, "tzx")
    task_id = town.task("tzx", "visit")["task_id"]
    fields = {k: ("true" if v is True else str(v)) for k, v in visit("2025-10-21").items()}
    token = csrf_token(client, f"/tasks/{task_id}")
    refused = client.post(f"/tasks/{task_id}", data={**fields, "csrf_token": token,
                                                     "visit_photos": [(io.BytesIO(huge), "大.jpg")]},
                          content_type="multipart/form-data")
    assert refused.status_code == 413
    text = refused.get_data(as_text=True)
    assert "每张不超过 5 MB" in text and "合计不超过 21 MB" in text and "Request Entity" not in text
    big = picture("PNG") + b"\0" * (5 * 1024 * 1024)
    one_big = client.post(f"/tasks/{task_id}", data={**fields, "csrf_token": token,
                                                      "visit_photos": [(io.BytesIO(big), "big.png")]},
                          content_type="multipart/form-data")
    assert one_big.status_code == 413
    text = one_big.get_data(as_text=True)
    assert "第 1 张照片（big.png）超过 5 MB" in text and "识字 20 个，两位数加法" in text and 'value="张大山"' in text
    assert 'data-max-bytes="5242880"' in text and 'data-max-files="4"' in text and "photo_limits.js" in text
    assert stored(town) == [] and "visit" in town.names("tzx")
