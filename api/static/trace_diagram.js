// The case page's diagram (issue 13 "One case"): the BPMN of the version the case runs on, in
// bpmn-js's NavigatedViewer (zoom, pan, drill into sub-processes), coloured with the path the
// case took, a count badge where an element ran more than once, and a side panel with an
// element's runs. Called processes the case entered open in place (our breadcrumb leads back).
//
// Markup: api/templates/_trace_diagram.html (a <section data-trace-diagram data-state-url>).
// The state (GET .../diagram-state) is:
//   {instance_id, process_id, version, recorded_since: ISO|null,
//    processes: {pid: {bpmn_url, elements: {id: {runs, state}}, flows: [id]}},
//    calls: {call activity id: called pid}}
// with state one of completed | active | overdue | error. A test page may pass the state
// directly: mountTraceDiagram(section, {state}).
//
// Plain mode (a section with data-plain, or a state with plain: true): a process version's
// diagram with no case (/processes/<key>, api/web/processes.py). The state then has no
// elements, flows or calls; clicking an element names it instead of loading its runs.
//
// Colours go into the elements' DI (color:border-color / background-color, which bpmn-js
// renders itself), so saveSVG() exports them: coloredSvg() is what an A4 export embeds.
// No inline styles or handlers: the pages' CSP allows none (api/web/__init__.py).

const STATES = {
  completed: { stroke: "#2e7d32", fill: "#e8f5e9", label: "已完成" },
  taken: { stroke: "#1565c0", label: "已走路径" },
  active: { stroke: "#ef6c00", fill: "#fff3e0", label: "待办" },
  overdue: { stroke: "#c62828", fill: "#ffebee", label: "已逾期" },
  error: { stroke: "#6a1b9a", fill: "#f3e5f5", label: "出错" },
};

// Element kinds in words, for the plain mode's panel (as api/web/processes.py TYPE_LABELS).
const TYPE_NAMES = {
  UserTask: "用户任务", ScriptTask: "脚本任务", ServiceTask: "服务任务", ManualTask: "手工任务",
  BusinessRuleTask: "决策任务", CallActivity: "调用流程", SubProcess: "子流程", StartEvent: "开始事件",
  EndEvent: "结束事件", IntermediateCatchEvent: "中间事件（等待）", IntermediateThrowEvent: "中间事件（抛出）",
  BoundaryEvent: "边界事件", ExclusiveGateway: "排他网关", ParallelGateway: "并行网关",
  InclusiveGateway: "包容网关", EventBasedGateway: "事件网关",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function localTime(iso, zone) {
  if (!iso) return "";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(moment).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

async function getText(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/xml" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}

function buildLegend(section) {
  const legend = section.querySelector(".td-legend");
  if (!legend || legend.childElementCount) return;
  for (const [key, { label }] of Object.entries(STATES)) {
    const item = el("li", `td-key td-key-${key}`);
    item.append(el("span", "td-swatch"), el("span", "", label));
    legend.append(item);
  }
  const badge = el("li", "td-key");
  badge.append(el("span", "td-badge", "2"), el("span", "", "办理次数"));
  legend.append(badge);
}

/** Lanes are named by role codes (the engine routes by them); people read the role's name. */
function withLaneNames(xml, names) {
  return xml.replace(/(<(?:bpmn:)?lane\b[^>]*?\bname=")([^"]*)"/g,
    (whole, head, code) => (names[code] ? `${head}${names[code].replace(/[&<>"]/g, "")}"` : whole));
}

class TraceDiagram {
  constructor(section, state) {
    this.section = section;
    this.state = state;
    this.plain = "plain" in section.dataset || Boolean(state.plain);
    this.zone = section.dataset.timezone || "Asia/Shanghai";
    this.runsUrl = section.dataset.runsUrl || `/api/v1/process-instances/${state.instance_id}/element-runs`;
    this.canvasNode = section.querySelector(".td-canvas");
    this.panel = section.querySelector(".td-panel");
    this.hint = [...this.panel.childNodes].map((node) => node.cloneNode(true));
    this.crumbs = section.querySelector(".td-crumbs");
    this.trail = [];   // the processes opened, outermost first: [{pid, name}]
    this.viewer = new window.BpmnJS({ container: this.canvasNode });
    this.viewer.get("eventBus").on("element.click", (event) => this.clicked(event.element));
    section.addEventListener("click", (event) => this.tool(event));
    window.addEventListener("beforeprint", () => this.fit());
    // Drilling into a sub-process shows its plane at 1:1 from the top left: fit it instead.
    this.viewer.get("eventBus").on("root.set", () => window.setTimeout(() => this.fit()));
  }

  async open(pid, name) {
    const process = this.state.processes[pid];
    if (!process) throw new Error(`no state for process ${pid}`);
    const xml = withLaneNames(await getText(process.bpmn_url), this.state.lane_names || {});
    const { warnings } = await this.viewer.importXML(xml);
    if (warnings.length) console.warn("trace diagram", pid, warnings.map((w) => w.message));
    const definitions = this.viewer.getDefinitions();
    const model = definitions.rootElements.find((e) => e.$type === "bpmn:Process" && e.id === pid);
    const at = this.trail.findIndex((step) => step.pid === pid);
    this.trail = at >= 0 ? this.trail.slice(0, at + 1) : [...this.trail, { pid, name: name || model?.name || pid }];
    if (this.pid && this.pid !== pid) this.panel.replaceChildren(...this.hint.map((node) => node.cloneNode(true)));
    this.pid = pid;
    this.paint(process);
    this.renderCrumbs();
    this.fit();
    this.section.dataset.process = pid;
    this.section.dispatchEvent(new CustomEvent("trace-diagram:shown", { detail: { process: pid } }));
  }

  paint(process) {
    const registry = this.viewer.get("elementRegistry");
    const canvas = this.viewer.get("canvas");
    const overlays = this.viewer.get("overlays");
    const graphics = this.viewer.get("graphicsFactory");
    const colour = (element, key, marker) => {
      const { stroke, fill } = STATES[key];
      element.di.set("color:border-color", stroke);
      if (fill && !element.waypoints) element.di.set("color:background-color", fill);
      graphics.update(element.waypoints ? "connection" : "shape", element, canvas.getGraphics(element));
      canvas.addMarker(element, marker);
    };
    for (const [id, info] of Object.entries(process.elements || {})) {
      const element = registry.get(id);
      if (!element || !STATES[info.state]) continue;
      colour(element, info.state, `td-${info.state}`);
      if (info.runs > 1) {
        const badge = el("span", "td-badge", info.runs);
        badge.title = `办理 ${info.runs} 次`;
        overlays.add(element, "td-runs", { position: { top: -10, right: 10 }, html: badge });
      }
      if (this.state.calls?.[id] && this.state.processes[this.state.calls[id]]) canvas.addMarker(element, "td-entered");
    }
    for (const id of process.flows || []) {
      const flow = registry.get(id);
      if (flow) colour(flow, "taken", "td-taken");
    }
  }

  renderCrumbs() {
    this.crumbs.replaceChildren();
    this.trail.forEach((step, i) => {
      if (i) this.crumbs.append(el("span", "td-sep", "›"));
      if (i === this.trail.length - 1) {
        this.crumbs.append(el("span", "td-here", step.name));
      } else {
        const back = el("button", "td-crumb button-quiet", step.name);
        back.type = "button";
        back.dataset.tdOpen = step.pid;
        this.crumbs.append(back);
      }
    });
    this.crumbs.hidden = this.trail.length < 2;
  }

  fit() {
    const canvas = this.viewer.get("canvas");
    canvas.zoom("fit-viewport", "auto");
  }

  tool(event) {
    const button = event.target.closest("button");
    if (!button || !this.section.contains(button)) return;
    const canvas = this.viewer.get("canvas");
    if (button.dataset.tdOpen) this.open(button.dataset.tdOpen).catch((err) => this.failed(err));
    else if (button.dataset.td === "fit") this.fit();
    else if (button.dataset.td === "in") canvas.zoom(canvas.zoom() * 1.25);
    else if (button.dataset.td === "out") canvas.zoom(canvas.zoom() / 1.25);
  }

  clicked(element) {
    const bo = element.businessObject;
    if (!bo || !bo.$instanceOf("bpmn:FlowNode")) return;
    const called = this.state.calls?.[bo.id];
    if (bo.$instanceOf("bpmn:CallActivity") && called && this.state.processes[called]) {
      this.open(called).catch((err) => this.failed(err));
      return;
    }
    if (this.plain) this.describe(bo);
    else this.showRuns(bo).catch((err) => this.failed(err));
  }

  /** Plain mode: what the element is (no case, so no runs). */
  describe(bo) {
    const facts = el("dl", "td-facts");
    const kind = bo.$type.replace(/^bpmn:/, "");
    for (const [label, value] of [["类型", TYPE_NAMES[kind] || kind], ["编号", bo.id]]) {
      const row = el("div");
      row.append(el("dt", "", label), el("dd", "", value));
      facts.append(row);
    }
    this.panel.replaceChildren(el("h3", "td-title", bo.name || bo.id), facts);
  }

  async showRuns(bo) {
    const info = this.state.processes[this.pid].elements?.[bo.id];
    const heading = el("h3", "td-title", bo.name || bo.id);
    this.panel.replaceChildren(heading);
    if (!info) {
      this.panel.append(el("p", "muted", "本案未经过此环节。"));
      return;
    }
    this.panel.append(el("p", "td-loading muted", "正在加载办理记录…"));
    const query = new URLSearchParams({ process: this.pid, element: bo.id });
    const data = await getJson(`${this.runsUrl}?${query}`);
    heading.textContent = data.name || bo.name || bo.id;
    const list = el("ol", "td-runs");
    for (const run of data.runs || []) list.append(this.runItem(run));
    this.panel.querySelector(".td-loading")?.remove();
    if (!list.childElementCount) this.panel.append(el("p", "muted", `经过 ${info.runs} 次，无人工办理记录。`));
    else this.panel.append(list);
  }

  runItem(run) {
    const item = el("li", "td-run");
    const facts = el("dl", "td-facts");
    const fact = (label, value, className) => {
      if (value === undefined || value === null || value === "") return;
      const row = el("div", className);
      row.append(el("dt", "", label), el("dd", "", value));
      facts.append(row);
    };
    const ended = localTime(run.completed_at, this.zone);
    const when = [localTime(run.ready_at, this.zone), run.status === "cancelled" ? `${ended}（已取消：流程转入其他步骤）`
      : ended || "尚未完成"];
    fact("时间", `${when[0]} → ${when[1]}`);
    fact("办理人", run.actor_name || run.actor);
    fact("角色/单位", [run.role_name, run.org_unit_name].filter(Boolean).join(" "));
    if (run.due_at) {
      const verdict = run.met === true ? "按期" : run.met === false ? "逾期" : "";
      fact("期限", `${localTime(run.due_at, this.zone)}${verdict ? `（${verdict}）` : ""}`,
        run.met === false ? "td-late" : run.met === true ? "td-met" : "");
    }
    item.append(facts);
    if (run.fields?.length) {
      const fields = el("dl", "td-fields");
      for (const field of run.fields) {
        const row = el("div");
        row.append(el("dt", "", field.label), el("dd", "", field.value));
        fields.append(row);
      }
      item.append(fields);
    }
    return item;
  }

  failed(err) {
    this.panel.replaceChildren(el("p", "td-error", `无法加载：${err.message}`));
  }

  /** The main plane of the process shown, coloured, as an SVG document (string), with the
   * run counts drawn in (overlays are HTML, saveSVG leaves them out). */
  async coloredSvg() {
    const canvas = this.viewer.get("canvas");
    const current = canvas.getRootElement();
    const main = canvas.getRootElements().find((root) => !root.id.endsWith("_plane")) || current;
    if (main !== current) canvas.setRootElement(main);
    try {
      const { svg } = await this.viewer.saveSVG();
      return this.withCounts(svg, main);
    } finally {
      if (main !== current) canvas.setRootElement(current);
    }
  }

  withCounts(svg, root) {
    // Text, not a parsed document: parsing the export in the page would apply its inline
    // styles, which the CSP refuses (and reports).
    const registry = this.viewer.get("elementRegistry");
    const marks = [];
    for (const [id, info] of Object.entries(this.state.processes[this.pid].elements || {})) {
      const element = registry.get(id);
      if (!element || info.runs < 2 || element.waypoints) continue;
      let top = element.parent;
      while (top && top.parent) top = top.parent;
      if (top !== root) continue;
      const x = Math.round(element.x + element.width - 4);
      const y = Math.round(element.y - 4);
      marks.push(`<text x="${x}" y="${y}" font-size="14" font-weight="bold" fill="#c62828" text-anchor="end" `
        + `font-family="Arial, sans-serif">×${Number(info.runs)}</text>`);
    }
    const end = svg.lastIndexOf("</svg>");
    return `${svg.slice(0, end)}${marks.join("")}${svg.slice(end)}`;
  }
}

/** Show `state` (or the state at the section's data-state-url) in `section`; resolves to the
 * controller, also kept as section.traceDiagram. */
export async function mountTraceDiagram(section, { state } = {}) {
  buildLegend(section);
  try {
    if (!window.BpmnJS) throw new Error("bpmn-js 未加载 (run make install)");
    const data = state || await getJson(section.dataset.stateUrl);
    const note = section.querySelector(".td-note");
    if (note && data.recorded_since) {
      note.textContent = `本案在 ${localTime(data.recorded_since, section.dataset.timezone || "Asia/Shanghai")} 之前走过的连线未记录，图中只标出此后经过的路径。`;
      note.hidden = false;
    }
    const diagram = new TraceDiagram(section, data);
    section.traceDiagram = diagram;
    await diagram.open(data.process_id);
    section.dataset.ready = "true";
    return diagram;
  } catch (err) {
    const panel = section.querySelector(".td-panel");
    if (panel) panel.replaceChildren(el("p", "td-error", `流程图无法显示：${err.message}`));
    section.dataset.ready = "failed";
    throw err;
  }
}

/** The coloured SVG of a mounted section (for the printable A4 trace). */
export function coloredSvg(section) {
  return section.traceDiagram.coloredSvg();
}

for (const section of document.querySelectorAll("[data-trace-diagram][data-state-url]")) {
  mountTraceDiagram(section).catch((err) => console.error("trace diagram", err));
}
