// One Chinese problem list: bpmnlint in the browser (bpmn-js-bpmnlint's `linting.completed`) and
// the server's deploy validation (POST /processes/validate, debounced after every change).
// Clicking a problem selects its element and scrolls to it. `blockingErrors` gates the deploy
// button: the server's errors and bpmnlint's (an unconnected task deploys but never runs).
import { call, reason } from "./http.js";
import { el } from "./dom.js";
import { zh } from "./translate.js";

const SERVER_DELAY_MS = 1200;

export class Problems {
  constructor(node, { modeler, files, onServer }) {
    this.node = node;
    this.modeler = modeler;
    this.files = files;          // async () -> {name: text}: what a deploy would send
    this.onServer = onServer;    // (result | null) after each server check
    this.lint = [];
    this.server = null;          // the last dry run's {errors, warnings}, null while none came back
    modeler.get("eventBus").on("linting.completed", ({ issues }) => {
      this.lint = Object.entries(issues).flatMap(([id, list]) => list.map((issue) => ({
        id: issue.id || id, message: zh(issue.message), level: issue.category === "error" ? "error" : "warn",
        source: "检查规则",
      })));
      this.render();
      if (this.server) this.onServer(this.server);
    });
    node.addEventListener("click", (event) => {
      const item = event.target.closest("[data-element]");
      if (item) this.reveal(item.dataset.element);
    });
  }

  /** Ask the server again in a moment (typing goes on meanwhile). */
  schedule() {
    this.pending = true;   // the last answer is about files that changed since: no deploy on it
    this.seq = (this.seq || 0) + 1;   // and an answer still on its way is about them too: dropped
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), SERVER_DELAY_MS);
  }

  async check() {
    const seq = (this.seq = (this.seq || 0) + 1);
    this.checking = true;
    this.render();
    try {
      const result = await call("POST", "/processes/validate", { files: await this.files() });
      if (seq !== this.seq) return;
      this.server = result;
    } catch (err) {
      if (seq !== this.seq) return;
      this.server = { valid: false, errors: [{ message: `无法校验：${reason(err)}` }], warnings: [] };
    }
    this.checking = this.pending = false;
    this.render();
    this.onServer(this.server);
  }

  serverErrors() {
    return this.server && !this.pending ? this.server.errors.length : null;
  }

  /** Errors that keep the deploy button off; null while the server's answer is awaited. */
  blockingErrors() {
    const server = this.serverErrors();
    return server === null ? null : server + this.lint.filter((p) => p.level === "error").length;
  }

  render() {
    const rows = [
      ...(this.server?.errors || []).map((p) => ({ ...p, id: p.element_id, level: "error", source: "部署校验" })),
      ...this.lint.filter((p) => p.level === "error"),
      ...(this.server?.warnings || []).map((p) => ({ ...p, id: p.element_id, level: "warn", source: "部署校验" })),
      ...this.lint.filter((p) => p.level !== "error"),
    ];
    const heading = el("h2", "pe-problems-title",
      `问题（${rows.filter((r) => r.level === "error").length} 个错误，${rows.filter((r) => r.level !== "error").length} 个警告）`
      + (this.checking ? " · 正在校验…" : ""));
    const list = el("ul", "pe-problem-list");
    for (const row of rows) list.append(this.item(row));
    if (!rows.length) list.append(el("li", "muted", this.server ? "没有发现问题。" : "正在检查…"));
    this.node.replaceChildren(heading, list);
  }

  item(row) {
    const item = el("li", `pe-problem pe-${row.level}`);
    const where = [row.file && !row.id ? row.file : "", row.id || "", row.line ? `第 ${row.line} 行` : ""].filter(Boolean).join(" · ");
    item.append(el("span", "pe-level", row.level === "error" ? "错误" : "警告"), el("span", "pe-source", row.source),
      el("span", "pe-where", where), el("span", "pe-message", row.message));
    if (row.id && this.modeler.get("elementRegistry").get(row.id)) {
      item.dataset.element = row.id;
      item.tabIndex = 0;
      item.title = "点击在图中选中此元素";
    }
    return item;
  }

  reveal(id) {
    const element = this.modeler.get("elementRegistry").get(id);
    if (!element) return;
    const canvas = this.modeler.get("canvas");
    const root = canvas.findRoot ? canvas.findRoot(element) : null;
    if (root && root !== canvas.getRootElement()) canvas.setRootElement(root);
    canvas.scrollToElement(element);
    this.modeler.get("selection").select(element);
  }
}
