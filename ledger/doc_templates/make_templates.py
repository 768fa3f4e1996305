"""Writes the .docx templates of ``ledger.document_docx`` (docxtpl: Jinja tags in Word).

The templates are files in the repository (``dropout-report.docx``, ``return-notice.docx``,
``inspection-notice.docx``: a quarterly inspection's 通报批评, ``ledger.inspection_documents.notice``);
this script is how they were made, so a change is reviewable as code. Edit it, then run
``.venv/bin/python -m ledger.doc_templates.make_templates`` and commit both. The context
is ``ledger.documents.build``'s dict (``doc``) plus ``blank`` (a line to fill by hand).
"""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

HERE = Path(__file__).resolve().parent


def _document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(18)
    section.left_margin = section.right_margin = Mm(16)
    style = doc.styles["Normal"]
    style.font.name, style.font.size = "SimSun", Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "SimSun")
    return doc


def _title(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(text)
    run.bold, run.font.size = True, Pt(17)


def _centre(doc, text: str) -> None:
    doc.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.CENTER


def _rows(doc, rows) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value


def report() -> None:
    doc = _document()
    _title(doc, "义务教育阶段学生辍学情况报告单")
    _centre(doc, "编号：{{ doc.report_no or blank }}{% if not doc.confirmed %}（草稿，待校长审核）{% endif %}")
    _rows(doc, [("学校", "{{ doc.child.school }}"), ("学生姓名 / 性别", "{{ doc.child.name }} / {{ doc.child.gender }}"),
                ("出生日期", "{{ doc.child.birth_date }}"), ("身份证号", "{{ doc.child.id_number }}"),
                ("学籍号", "{{ doc.child.registry_no or blank }}"), ("年级班级", "{{ doc.child.class_name }}"),
                ("所属村（社区）", "{{ doc.child.village }}"), ("户籍地", "{{ doc.child.hukou or blank }}"),
                ("现住址", "{{ doc.child.address or blank }}"),
                ("监护人", "{{ doc.child.guardian.name }}（{{ doc.child.guardian.relation or blank }}）"
                           " 电话 {{ doc.child.guardian.phone }}"),
                ("最后到校日期", "{{ doc.last_attended_on or blank }}"),
                ("连续缺课天数（教学日）", "{% if doc.absent_days is not none %}{{ doc.absent_days }} 天{% else %}{{ blank }}{% endif %}"),
                ("原因分类", "{{ doc.cause or blank }}"), ("辍学原因", "{{ doc.reason }}"), ("去向", "{{ doc.whereabouts }}"),
                ("填报日期", "{{ doc.filed_on }}")])
    doc.add_paragraph("已采取措施")
    table = doc.add_table(rows=3, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("序号", "措施", "日期", "参加人员", "结果")):
        cell.text = text
    table.rows[1].cells[0].text = "{%tr for m in doc.measures %}"
    for cell, text in zip(table.rows[2].cells, ("{{ loop.index }}", "{{ m.measure }}（{{ m.method }}）",
                                                "{{ m.date }} {{ m.time }}", "{{ m.people }}",
                                                "{% if m.met %}见到：{{ m.met }}；{% endif %}{% if m.attitude %}监护人{{ m.attitude }}；"
                                                "{% endif %}{{ m.result }}")):
        cell.text = text
    row = table.add_row()
    row.cells[0].text = "{%tr endfor %}"
    _rows(doc, [("学校建议", "{{ doc.suggestion or blank }}")])
    doc.add_paragraph("班主任（签字）：{{ blank }}　德育处（签字）：{{ blank }}　校长（签字）：{{ doc.confirmed_by or blank }}")
    doc.add_paragraph("学校（盖章）　　报送日期：{{ doc.sent_on or blank }}")
    doc.add_paragraph("接收单位签收（镇人民政府 / 县教育行政部门）：签收人 {{ doc.received_by or blank }}　"
                      "签收日期 {{ doc.received_on or blank }}")
    doc.add_paragraph("本报告单存入学生学籍档案；抄送县教育局。保学控辍平台 · 案件 {{ doc.instance_id }}"
                      "{% if doc.version %} · 第 {{ doc.version }} 版（已确认）{% endif %}")
    doc.save(HERE / "dropout-report.docx")


def notice() -> None:
    doc = _document()
    doc.add_paragraph("{{ '送达联（交监护人）' if doc['copy'] == 'guardian' else '留存联' }}").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _title(doc, "限期返校通知书")
    _centre(doc, "{{ doc.notice_no or blank }}")
    doc.add_paragraph("{{ doc.recipient or blank }}：")
    doc.add_paragraph("你的被监护人{{ doc.child.name }}（{{ doc.child.gender }}，{{ doc.child.birth_date }}出生"
                      "{% if doc.child.id_number %}，身份证号 {{ doc.child.id_number }}{% endif %}）{{ doc.facts }}")
    doc.add_paragraph("{% for law in doc.laws %}{{ law.law }}{{ law.article }}规定：“{{ law.text }}”{% endfor %}")
    doc.add_paragraph("依据上述规定，现对你提出批评教育，并责令你于 {{ doc.deadline or blank }} 前（本通知书送达之日起 3 个工作日内）"
                      "送{{ doc.child.name }}返回{{ doc.child.school or '学校' }}就读。")
    doc.add_paragraph("逾期仍不送被监护人返校的，本机关将依法作进一步处理：由司法所对你开展法治教育，并按县级有关规定移送有关部门依法处理"
                      "{% if doc.court_enforcement %}，并可依法申请人民法院强制执行{% endif %}。")
    doc.add_paragraph("{{ doc.rights }}")
    doc.add_paragraph("联系人：{{ doc.contact or blank }}　联系电话：{{ doc.phone or blank }}")
    right = doc.add_paragraph("签发人：{{ doc.signer or blank }}　{{ doc.issuer }}（盖章）　{{ doc.issued_on or blank }}")
    right.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_page_break()
    _title(doc, "送达回证")
    _rows(doc, [("送达文书", "《限期返校通知书》{{ doc.notice_no }}"), ("受送达人", "{{ doc.service.recipient or blank }}"),
                ("送达时间", "{{ doc.service.served_on or blank }}"), ("送达地点", "{{ doc.service.place or blank }}"),
                ("送达方式", "{{ doc.service.method or blank }}"), ("受送达人签名", "{{ blank }}　　年　　月　　日"),
                ("代收人及与受送达人关系", "{{ blank }}"), ("见证人", "{{ doc.service.witness or blank }}（签名：{{ blank }}）"),
                ("拒收情况", "{{ doc.service.refusal_note or blank }}"), ("送达人签名", "{{ blank }}"),
                ("签发机关", "{{ doc.issuer }}（盖章）")])
    doc.add_paragraph("受送达人拒绝签收的，由送达人在本回证上注明拒收事由和日期，送达人、见证人签名，把文书留在受送达人的住所，即视为送达。")
    doc.save(HERE / "return-notice.docx")


def inspection_notice() -> None:
    doc = _document()
    _title(doc, "{{ doc.title }}")
    _centre(doc, "{{ doc.notice_no }}{% if doc.draft %}（草稿，待专班组长批准）{% endif %}")
    doc.add_paragraph("{{ doc.quarter_label }}，镇纪委、镇民生服务办联合督查组对{{ doc.record.name }}控辍保学工作进行了督查"
                      "{% if doc.record.inspected_on %}（{{ doc.record.inspected_on }}）{% endif %}。督查发现以下问题：")
    doc.add_paragraph("{% for f in doc.record.failings %}{{ loop.index }}. {{ f.item }}：{{ f.note }}　{% endfor %}")
    doc.add_paragraph("{{ doc.record.notice_remarks }}")
    doc.add_paragraph("上述问题反映出该单位控辍保学工作责任落实不到位。经镇控辍保学工作专班研究，决定对{{ doc.record.name }}予以通报批评。")
    doc.add_paragraph("请{{ doc.record.name }}{{ doc.record.head }}于 {{ doc.record.rectify_deadline or blank }} 前逐项整改到位，"
                      "并将整改情况书面报告镇控辍保学工作专班；督查组将进行复核。对整改不力、因失职导致学生辍学的，依规依纪追究责任。")
    right = doc.add_paragraph("{{ doc.town_name }}控辍保学工作专班　{{ doc.record.notice_issued_on or blank }}")
    right.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.save(HERE / "inspection-notice.docx")


if __name__ == "__main__":
    report()
    notice()
    inspection_notice()
