"""A school's day from an Excel file: rows checked with their row numbers, all or nothing."""
from __future__ import annotations

import io
from datetime import date

import pytest

from tests.hostile_xlsx import workbook as xlsx
from tests.hostile_xlsx import BILLION_LAUGHS, EXTERNAL_ENTITY, WORKBOOK, lying_sizes, with_doctype, zip_bomb

from .attendance_helpers import P, U, stored

HEADER = ["学生ID", "姓名", "班级", "状态（到校/请假/无故缺课）", "原因"]


def upload(client, as_user, data: bytes, *, filename="考勤.xlsx", user="pzx", day="2025-03-03", school="zx"):
    return client.post("/api/v1/attendance/upload", headers=as_user(user), content_type="multipart/form-data",
                       data={"school_code": school, "date": day, "file": (io.BytesIO(data), filename)})


def test_a_good_file_is_recorded(client, app, as_user):
    data = xlsx(HEADER, [1, "张小明", "三年级1班", "无故缺课", "电话未接通"], [None], [2, "李红", "zx-3-2", "到校", None])
    response = upload(client, as_user, data)
    assert response.status_code == 200, response.json
    assert response.json["outcomes"] == [
        {"child_id": 1, "status": U, "consecutive_unexcused": 1, "returned": False},
        {"child_id": 2, "status": P, "consecutive_unexcused": 0, "returned": False}]
    assert stored(app) == [(1, date(2025, 3, 3), U), (2, date(2025, 3, 3), P)]
    assert upload(client, as_user, data).json["changed"] == 0      # the same file again: nothing new


def test_a_bad_file_lists_every_bad_row_by_number_and_stores_nothing(client, app, as_user):
    data = xlsx(["考勤表（2025-03-03）"], HEADER,
                [1, "张小明", "三年级1班", "无故缺课", None],   # row 3: good
                [None],                                          # row 4: blank, skipped
                [99, "某某", "三年级1班", "到校", None],        # row 5: unknown child
                [2, "李红", "三年级2班", "迟到", None],         # row 6: bad status
                [3, "王芳芳", "一年级1班", "到校", None],       # row 7: another school
                [2, "王小二", "三年级2班", "到校", None],       # row 8: the name does not match
                [2, "李红", "三年级1班", "到校", None],         # row 9: the class does not match
                ["二", "李红", "三年级2班", "到校", None],      # row 10: not an id
                [1, "张小明", "三年级1班", "到校", None])       # row 11: child 1 again
    response = upload(client, as_user, data)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "rows.5": "第5行：儿童 99 不存在或不在该校",
        "rows.6": "第6行：儿童 2 的状态 “迟到” 无效（应为 到校、请假 或 无故缺课）",
        "rows.7": "第7行：儿童 3 不存在或不在该校",
        "rows.8": "第8行：儿童 2 的姓名与学籍不符",
        "rows.9": "第9行：儿童 2 的班级与学籍不符",
        "rows.10": "第10行：学生ID “二” 不是有效的编号",
        "rows.11": "第11行：儿童 1 重复出现（另见 第3行）"}
    assert stored(app) == []


def test_a_head_teacher_uploads_only_their_class(client, app, as_user):
    data = xlsx(HEADER, [1, None, None, "到校", None], [2, None, None, "到校", None])
    response = upload(client, as_user, data, user="ht31")
    assert response.status_code == 422 and response.json["errors"] == {"rows.3": "第3行：儿童 2 不在您的班级"}
    assert upload(client, as_user, data, user="ht11").status_code == 403
    assert stored(app) == []


def test_other_files_are_refused_with_a_reason(client, as_user):
    csv = upload(client, as_user, "学生ID,状态\n1,到校\n".encode(), filename="考勤.csv")
    assert csv.status_code == 422 and ".xlsx" in csv.json["errors"]["file"]
    fake = upload(client, as_user, b"PK\x03\x04 not really a zip", filename="考勤.xlsx")
    assert fake.status_code == 422 and ".xlsx" in fake.json["errors"]["file"]
    no_status = upload(client, as_user, xlsx(["学生ID", "姓名"], [1, "张小明"]))
    assert no_status.status_code == 422 and "找不到表头" in no_status.json["errors"]["file"]
    empty = upload(client, as_user, xlsx(HEADER))
    assert empty.status_code == 422 and empty.json["errors"] == {"file": "文件中没有数据行"}
    missing = client.post("/api/v1/attendance/upload", headers=as_user("pzx"), content_type="multipart/form-data",
                          data={"school_code": "zx", "date": "2025-03-03"})
    assert missing.status_code == 422 and "file" in missing.json["errors"]


def test_size_and_row_limits(client, as_user):
    too_big = upload(client, as_user, b"PK\x03\x04" + b"\0" * (2 * 1024 * 1024 + 1))
    assert too_big.status_code == 413
    many = xlsx(HEADER, *([1, None, None, "到校", None] for _ in range(3001)))
    response = upload(client, as_user, many)
    assert response.status_code == 422 and "最多 3000 行" in response.json["errors"]["file"]


GOOD = [HEADER, [1, "张小明", "三年级1班", "到校", None]]


@pytest.mark.parametrize("hostile", [
    pytest.param(lambda good: with_doctype(good, BILLION_LAUGHS), id="billion-laughs-in-the-sheet"),
    pytest.param(lambda good: with_doctype(good, EXTERNAL_ENTITY), id="external-entity-in-the-sheet"),
    pytest.param(lambda good: with_doctype(good, BILLION_LAUGHS, WORKBOOK), id="dtd-in-the-workbook-part"),
    pytest.param(lambda good: with_doctype(good, BILLION_LAUGHS, encoding="utf-16"), id="dtd-in-utf-16"),
])
def test_a_workbook_with_a_dtd_is_refused_not_expanded(client, app, as_user, hostile):
    response = upload(client, as_user, hostile(xlsx(*GOOD)))
    assert response.status_code == 422 and "DTD" in response.json["errors"]["file"]
    assert "root:" not in response.get_data(as_text=True)      # /etc/passwd was never read
    assert stored(app) == []


def test_a_dtd_behind_an_encoding_the_check_cannot_read_is_refused_too(client, app, as_user):
    hidden = with_doctype(xlsx(*GOOD), BILLION_LAUGHS, WORKBOOK, encoding="shift_jis")
    response = upload(client, as_user, hidden)
    assert response.status_code == 422 and "损坏" in response.json["errors"]["file"]
    assert stored(app) == []


def test_a_zip_bomb_and_a_zip_that_lies_about_its_sizes_are_refused(client, app, as_user):
    bomb = zip_bomb(xlsx(*GOOD), 11 * 1024 * 1024)
    assert len(bomb) < 100 * 1024                                  # small upload, 11 MB unpacked
    response = upload(client, as_user, bomb)
    assert response.status_code == 413 and "解压后超过" in response.json["errors"]["file"]
    lying = upload(client, as_user, lying_sizes(xlsx(*GOOD)))
    assert lying.status_code == 422 and ".xlsx" in lying.json["errors"]["file"]
    assert stored(app) == []
    assert upload(client, as_user, xlsx(*GOOD)).status_code == 200   # the same content, honest: recorded
