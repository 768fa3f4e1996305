// Drafts and deploy: the draft list of this process (several may exist, each kept on the server),
// open one, save (a new draft, or the open one with its row_version: 409 when someone saved it
// meanwhile), delete one (after a confirm), and deploy the open draft as a new version with a
// required note (without a draft name the draft is named for the moment: "<流程名> 修改 <时间>").
import { call, reason } from "./http.js";

export class Drafts {
  constructor(node, { boot, state, problems, files, load }) {
    Object.assign(this, { node, boot, state, problems, files, load });
    this.draft = null;
    this.picker = node.querySelector("[data-draft-list]");
    this.title = node.querySelector("[data-draft-title]");
    this.status = document.querySelector("[data-status]");
    this.saveButton = node.querySelector("[data-save]");
    this.deployButton = node.querySelector("[data-deploy]");
    this.note = node.querySelector("[data-deploy-note]");
    this.version = document.querySelector("[data-current-version]");
    node.querySelector("[data-draft-open]").addEventListener("click", () => this.open().catch((err) => this.say(`无法打开草稿：${reason(err)}`, true)));
    node.querySelector("[data-draft-delete]").addEventListener("click", () => this.remove().catch((err) => this.say(`删除失败：${reason(err)}`, true)));
    this.saveButton.addEventListener("click", () => this.save().catch((err) => this.say(`保存失败：${reason(err)}`, true)));
    this.deployButton.addEventListener("click", () => this.deploy().catch((err) => this.say(`发布失败：${reason(err)}`, true)));
    this.note.addEventListener("input", () => this.refreshButtons());
  }

  base() {
    return `/processes/${encodeURIComponent(this.boot.process_key)}`;
  }

  say(text, error) {
    this.status.textContent = text;
    this.status.className = error ? "pe-status error" : "pe-status";
  }

  async list() {
    try {
      this.drafts = await call("GET", `${this.base()}/drafts`);
    } catch (err) {
      this.drafts = [];
      this.say(`无法读取草稿：${reason(err)}`, true);
    }
    const open = this.drafts.filter((d) => !d.deployed_version);
    const options = open.map((d) => new Option(`${d.title}（${d.updated_by || ""} ${d.updated_at_local || ""}）`, d.id));
    this.picker.replaceChildren(new Option(open.length ? "选择草稿" : "暂无草稿", ""), ...options);
    if (this.draft) this.picker.value = String(this.draft.id);
  }

  async open() {
    const id = this.picker.value;
    if (!id) return;
    if (this.state.dirty && !window.confirm("当前修改尚未保存，打开草稿将丢弃这些修改。继续吗？")) return;
    this.draft = await call("GET", `/processes/drafts/${id}`);
    this.title.value = this.draft.title;
    await this.load(this.draft);
    this.say(`已打开草稿“${this.draft.title}”（基于版本 ${this.draft.base_version ?? "—"}）。`);
  }

  /** Delete the draft chosen in the list. The diagram on screen stays, unsaved, if it was that draft. */
  async remove() {
    const chosen = this.drafts?.find((d) => String(d.id) === this.picker.value);
    if (!chosen) return this.say("请先在列表中选择要删除的草稿。", true);
    if (!window.confirm(`删除草稿“${chosen.title}”？删除后不能恢复。`)) return undefined;
    const current = this.draft?.id === chosen.id;
    await call("DELETE", `/processes/drafts/${chosen.id}`, { row_version: current ? this.draft.row_version : chosen.row_version });
    if (current) {
      this.draft = null;
      this.state.dirty = true;
    }
    await this.list();
    this.refreshButtons();
    return this.say(`草稿“${chosen.title}”已删除。`);
  }

  async save() {
    const title = this.title.value.trim();
    if (!title) {
      this.title.focus();
      throw new Error("请先填写草稿名称");
    }
    const files = await this.files();
    this.draft = this.draft
      ? await call("PUT", `/processes/drafts/${this.draft.id}`, { title, files, row_version: this.draft.row_version })
      : await call("POST", `${this.base()}/drafts`, { title, files, base_version: this.boot.version });
    this.state.dirty = false;
    await this.list();
    this.refreshButtons();
    this.say(`草稿“${this.draft.title}”已保存。`);
  }

  async deploy() {
    const note = this.note.value.trim();
    if (!note) throw new Error("请填写发布说明");
    if (!this.title.value.trim()) this.title.value = `${this.boot.name || this.boot.process_key} 修改 ${localNow(this.boot.timezone)}`;
    if (!this.draft || this.state.dirty) await this.save();
    const result = await call("POST", `/processes/drafts/${this.draft.id}/deploy`, { note, row_version: this.draft.row_version });
    const mine = (result.processes || []).find((p) => p.process_key === this.boot.process_key) || result.processes?.[0];
    this.say(mine ? `已发布为“${mine.name || mine.process_key}”第 ${mine.version} 版。新案件将按新版本办理，已在办的案件仍按原版本。`
      : "已发布。");
    if (mine) {
      this.boot.version = mine.version;   // the next draft is based on the version just made
      this.version.textContent = String(mine.version);
    }
    this.draft = null;
    this.note.value = this.title.value = "";
    await this.list();
    this.refreshButtons();
  }

  refreshButtons() {
    const errors = this.problems.blockingErrors();
    this.deployButton.disabled = errors === null || errors > 0 || !this.note.value.trim();
    this.deployButton.title = errors === null ? "正在等待部署校验结果" : errors > 0
      ? `问题列表中有 ${errors} 个错误，须先改正` : !this.note.value.trim() ? "请填写发布说明" : "";
    this.node.querySelector("[data-dirty]").hidden = !this.state.dirty;
  }
}

/** Now as "YYYY-MM-DD HH:MM" in the town's time zone (the server's BAOXUE_TIMEZONE), as pages show times. */
export function localNow(timeZone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
