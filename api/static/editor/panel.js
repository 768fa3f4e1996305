// The side panel: what Baoxue needs on the selected element (issue 14 "Editor"). Plain DOM; each
// change is a bpmn-js command (spiff.js), so 撤销 (Ctrl+Z) undoes it. Re-rendered on selection
// and after every command (undo included), so it always shows the model.
import { call } from "./http.js";
import { field, el, textInput, textArea, select, note } from "./dom.js";

const DUE_DAYS = [["", "（未设置：日历日）"], ["calendar", "日历日"], ["working", "工作日"], ["school", "教学日"]];
const TIMER_KINDS = [["timeDuration", "时长（多久之后）"], ["timeDate", "日期时间（到点触发）"], ["timeCycle", "周期（重复）"]];
const NEW_FORM = "__new__";

export class Panel {
  constructor(node, editor) {
    this.node = node;
    this.editor = editor;   // {modeler, spiff, roles, baseIds, formNames(), newForm(base) -> [schema, ui], openForm(name)}
    const modeler = editor.modeler;
    this.modeling = modeler.get("modeling");
    this.registry = modeler.get("elementRegistry");
    this.canvas = modeler.get("canvas");
    this.commandStack = modeler.get("commandStack");
    this.commandStack.register(ASSIGN_LANE, new AssignLaneHandler(this.modeling));
    modeler.get("eventBus").on("selection.changed", ({ newSelection }) => this.show(newSelection[0]));
    modeler.get("eventBus").on("commandStack.changed", () => this.refresh());
    this.show(null);
  }

  refresh() {
    const current = this.element && this.registry.get(this.element.id);
    // Keep typing undisturbed: only re-render when the focus is not inside the panel.
    if (!this.node.contains(document.activeElement)) this.show(current || null);
  }

  show(element) {
    this.element = element;
    this.node.replaceChildren();
    if (!element || element.type === "label" || !element.businessObject) {
      this.node.append(el("p", "muted", "在图中选中一个元素，在此编辑它的名称、泳道、表单、期限、脚本等。"));
      return;
    }
    const bo = element.businessObject;
    this.node.append(el("h2", "pe-title", bo.name || bo.id), el("p", "muted pe-id", `${typeLabel(bo)} · ${bo.id}`));
    this.identifier(element);
    if (bo.$instanceOf("bpmn:Lane")) this.laneRole(element);
    else if (!bo.$instanceOf("bpmn:Process")) this.name(element);
    if (bo.$instanceOf("bpmn:FlowNode")) this.lane(element);
    if (bo.$instanceOf("bpmn:UserTask")) this.userTask(element);
    if (bo.$instanceOf("bpmn:ScriptTask")) this.code(element, bo, "script", "脚本（Python）");
    if (bo.$instanceOf("bpmn:SequenceFlow") && needsCondition(bo)) this.condition(element);
    for (const def of bo.eventDefinitions || []) {
      if (def.$type === "bpmn:TimerEventDefinition") this.timer(element, def);
      if (def.$type === "bpmn:MessageEventDefinition") this.message(element, def, isThrow(bo));
    }
    if (bo.$instanceOf("bpmn:SendTask")) this.message(element, bo, true);
    if (bo.$instanceOf("bpmn:ReceiveTask")) this.message(element, bo, false);
  }

  name(element) {
    const input = textInput(element.businessObject.name || "");
    input.addEventListener("change", () => this.modeling.updateLabel(element, input.value.trim() || undefined));
    this.node.append(field("名称", input));
  }

  laneRole(element) {
    const roles = this.editor.roles.map((r) => [r.code, `${r.name}（${r.code}）`]);
    const current = element.businessObject.name || "";
    if (current && !roles.some(([code]) => code === current)) roles.unshift([current, `${current}（不是已知岗位）`]);
    const choice = select([["", "请选择岗位"], ...roles], current);
    choice.addEventListener("change", () => this.modeling.updateLabel(element, choice.value || undefined));
    this.node.append(field("岗位（泳道名称即岗位代码，任务按它派给该岗位的人）", choice));
  }

  /** The element's lane is its lane's flowNodeRef membership: that is what SpiffWorkflow reads
   * to route the task to a role, not where the shape sits. On a plane with lane shapes a change
   * moves the shape into the band (bpmn-js then updates flowNodeRef); on a drilled-down
   * sub-process's plane (no lane shapes there) it updates the flowNodeRef lists, shape untouched. */
  lane(element) {
    const bo = element.businessObject;
    const root = this.canvas.findRoot(element);
    const shapes = this.registry.filter((e) => e.type === "bpmn:Lane" && !e.children.some((c) => c.type === "bpmn:Lane")
      && this.canvas.findRoot(e) === root);
    const lanes = shapes.length ? shapes.map((s) => s.businessObject) : leafLanes(bo);
    if (!lanes.length) return;
    const here = lanes.find((lane) => (lane.flowNodeRef || []).includes(bo));
    const names = Object.fromEntries(this.editor.roles.map((r) => [r.code, r.name]));
    const options = lanes.map((lane) => [lane.id, `${names[lane.name] || lane.name || lane.id}`
      + (names[lane.name] ? `（${lane.name}）` : "")]);
    const choice = select(here ? options : [["", "（不在任何泳道内）"], ...options], here?.id || "");
    choice.addEventListener("change", () => {
      const lane = lanes.find((l) => l.id === choice.value);
      if (!lane || lane === here) return;
      const shape = shapes.length && this.registry.get(lane.id);
      if (shape) {
        const dy = shape.y + shape.height / 2 - (element.y + element.height / 2);
        this.modeling.moveShape(element, { x: 0, y: dy });
      } else {
        this.commandStack.execute(ASSIGN_LANE, { element, lanes: leafLanes(bo, true), lane });
      }
    });
    this.node.append(field("泳道（办理岗位）", choice));
  }

  /** 标识 (the BPMN id): editable only for elements the deployed version does not have, since
   * running cases and migration find their tasks by id. Checked: an XML NCName, unique. */
  identifier(element) {
    const bo = element.businessObject;
    const fixed = bo.$instanceOf("bpmn:Process") || this.editor.baseIds.has(bo.id);
    const input = textInput(bo.id);
    if (fixed) {
      input.readOnly = true;
      this.node.append(field("标识", input, bo.$instanceOf("bpmn:Process") ? "流程的标识即流程代码，不能在此修改。"
        : "已部署的元素不能改标识（在办案件按标识找到它们）。"));
      return;
    }
    const problem = el("p", "help pe-error-text");
    problem.hidden = true;
    input.addEventListener("change", () => {
      const id = input.value.trim();
      const error = id === bo.id ? "" : idProblem(id, this.editor.modeler.get("moddle"), this.registry);
      problem.textContent = error;
      problem.hidden = !error;
      input.setAttribute("aria-invalid", String(Boolean(error)));
      if (error || id === bo.id) return;
      this.modeling.updateProperties(element, { id });
      this.show(element);   // the heading names the id; refresh() spares a panel that has the focus
    });
    const row = field("标识", input, "英文字母或下划线开头，只含字母、数字、_ - .；在本流程中唯一。出现在版本对比和迁移说明中。");
    row.append(problem);
    this.node.append(row);
  }

  userTask(element) {
    const { spiff } = this.editor;
    const bo = element.businessObject;
    const current = spiff.property(bo, "formJsonSchemaFilename");
    const names = this.editor.formNames().filter((n) => n.endsWith(".schema.json"));
    if (current && !names.includes(current)) names.unshift(current);
    const choice = select([["", "（无表单）"], ...names.map((n) => [n, n]), [NEW_FORM, "新建表单…"]], current);
    const wrap = el("div", "pe-form-pick");
    const newName = textInput("", "新表单的名称，如 home_visit_2（英文字母、数字、下划线）");
    newName.hidden = true;
    const create = el("button", "button-quiet", "创建表单");
    create.type = "button";
    create.hidden = true;
    const edit = el("button", "button-quiet", "编辑此表单");
    edit.type = "button";
    edit.hidden = !current;
    choice.addEventListener("change", () => {
      const making = choice.value === NEW_FORM;
      newName.hidden = create.hidden = !making;
      if (!making) this.setForm(element, choice.value);
    });
    create.addEventListener("click", () => {
      const base = newName.value.trim();
      if (!/^[a-z][a-z0-9_]*$/.test(base)) { newName.setCustomValidity("只能用小写英文字母、数字和下划线，以字母开头"); newName.reportValidity(); return; }
      const [schema] = this.editor.newForm(base);
      this.setForm(element, schema);
      this.editor.openForm(schema);
    });
    edit.addEventListener("click", () => this.editor.openForm(spiff.property(bo, "formJsonSchemaFilename")));
    wrap.append(choice, newName, create, edit);
    this.node.append(field("表单", wrap));

    const dueIn = textInput(spiff.property(bo, "dueIn"), '"P3D"');
    dueIn.addEventListener("change", () => spiff.setProperty(element, "dueIn", dueIn.value.trim()));
    this.node.append(field("办理期限 dueIn", dueIn,
      '期限是 Python 表达式：ISO 时长要加引号，如 "P3D"（3 天）、"P0D"（当天）；也可写算出日期的表达式。'));
    const dueDays = select(DUE_DAYS, spiff.property(bo, "dueDays"));
    dueDays.addEventListener("change", () => spiff.setProperty(element, "dueDays", dueDays.value));
    this.node.append(field("期限按何种日计算 dueDays", dueDays, "工作日、教学日只能按整天计（如 \"P3D\"）。"));
    this.instructions(element);
    this.code(element, bo, "spiffworkflow:PostScript", "提交后执行的脚本（postScript，Python）");
  }

  instructions(element) {
    const { spiff } = this.editor;
    const bo = element.businessObject;
    const type = "spiffworkflow:InstructionsForEndUser";
    const area = textArea(spiff.text(bo, type), 6);
    const preview = el("div", "pe-preview markdown");
    const render = async () => {
      try {
        const { html } = await call("POST", "/processes/instructions/preview", { text: area.value });
        preview.innerHTML = html;   // the server's Markdown renderer: raw HTML disabled (taskview)
      } catch (err) {
        preview.textContent = `预览失败：${err.message}`;
      }
    };
    let timer;
    area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(render, 400); });
    area.addEventListener("change", () => spiff.setText(element, bo, type, area.value));
    render();
    this.node.append(field("办理说明（Markdown，可用 {{ 变量 }}）", area), el("p", "muted", "预览（与待办页面相同的渲染；变量在此显示为空）："), preview);
  }

  code(element, target, key, label) {
    const { spiff } = this.editor;
    const ext = key.startsWith("spiffworkflow:");
    const area = textArea(ext ? spiff.text(target, key) : target.get(key) || "", 4, "code");
    area.addEventListener("change", () => (ext ? spiff.setText(element, target, key, area.value)
      : this.modeling.updateProperties(element, { [key]: area.value })));
    this.node.append(field(label, area));
  }

  condition(element) {
    const { spiff } = this.editor;
    const bo = element.businessObject;
    const area = textArea(spiff.expression(bo, "conditionExpression"), 2, "code");
    area.addEventListener("change", () => spiff.setExpression(element, bo, "conditionExpression", area.value.trim()));
    this.node.append(field("条件（Python 表达式，为真时走这条线）", area, "例：cause == 'illness'。默认流不需要条件。"));
  }

  timer(element, def) {
    const { spiff } = this.editor;
    const kind = TIMER_KINDS.find(([key]) => def.get(key))?.[0] || "timeDuration";
    const kindChoice = select(TIMER_KINDS, kind);
    const input = textInput(spiff.expression(def, kind), '"P3D"');
    const save = () => {
      for (const [key] of TIMER_KINDS) if (key !== kindChoice.value && def.get(key)) spiff.setExpression(element, def, key, "");
      spiff.setExpression(element, def, kindChoice.value, input.value.trim());
    };
    kindChoice.addEventListener("change", save);
    input.addEventListener("change", save);
    this.node.append(field("定时器类型", kindChoice), field("定时器表达式", input,
      '定时器表达式是 Python 表达式，所以 ISO 时长或日期必须加引号：写 "P3D"（3 天后），不能写 P3D；'
      + '周期如 "R3/P1D"，日期如 "2026-09-01T08:00:00+08:00"。也可写变量或算式。'));
  }

  message(element, target, throwing) {
    const { spiff } = this.editor;
    const definitions = this.editor.modeler.getDefinitions();
    const messages = definitions.rootElements.filter((e) => e.$type === "bpmn:Message");
    const current = target.messageRef;
    const choice = select([["", "（未选择）"], ...messages.map((m) => [m.id, m.name || m.id]), [NEW_FORM, "新建消息…"]], current?.id || "");
    const newName = textInput("", "消息名称（英文），如 absence_day");
    newName.hidden = true;
    choice.addEventListener("change", () => {
      newName.hidden = choice.value !== NEW_FORM;
      if (choice.value !== NEW_FORM) {
        this.modeling.updateModdleProperties(element, target, { messageRef: messages.find((m) => m.id === choice.value) });
      }
    });
    newName.addEventListener("change", () => {
      const name = newName.value.trim();
      if (!name) return;
      const message = this.editor.modeler.get("moddle").create("bpmn:Message", { id: `msg_${name}`, name });
      this.modeling.updateModdleProperties(element, definitions, { rootElements: [...definitions.rootElements, message] });
      this.modeling.updateModdleProperties(element, target, { messageRef: message });
    });
    this.node.append(field("消息", el("div", "", "", [choice, newName])));
    if (throwing) {
      this.code(element, target, "spiffworkflow:MessagePayload", "消息内容（messagePayload，Python 表达式，须含关联键，如 {\"child_id\": child_id}）");
    } else {
      const variable = textInput(spiff.text(target, "spiffworkflow:MessageVariable"), "absence");
      variable.addEventListener("change", () => spiff.setText(element, target, "spiffworkflow:MessageVariable", variable.value.trim()));
      this.node.append(field("收到的内容存入变量（messageVariable）", variable));
    }
    this.node.append(note("关联：消息按关联键（如 child_id）送到对应的案件；关联键的取值在流程的关联属性中定义。"));
  }

  setForm(element, schemaName) {
    const { spiff } = this.editor;
    const ui = schemaName ? schemaName.replace(/\.schema\.json$/, ".uischema.json") : "";
    spiff.setProperty(element, "formJsonSchemaFilename", schemaName);
    spiff.setProperty(element, "formUiSchemaFilename", ui && this.editor.formNames().includes(ui) ? ui : "");
  }
}

const ASSIGN_LANE = "baoxue.lane.assign";
const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** The lanes (leaves, or all with `all`) of the laneSets of the processes/sub-processes that
 * contain `bo`, child lane sets included. */
function leafLanes(bo, all) {
  const found = [];
  const walk = (lane) => {
    const children = lane.childLaneSet?.lanes || [];
    if (all || !children.length) found.push(lane);
    children.forEach(walk);
  };
  for (let parent = bo.$parent; parent; parent = parent.$parent) {
    for (const set of parent.laneSets || []) (set.lanes || []).forEach(walk);
  }
  return found;
}

/** Registered on the command stack (Panel's constructor): one undoable step that takes the
 * element out of every lane holding it and into `lane`, flowNodeRef and bpmn-js's inverse
 * `lanes` kept in step (as bpmn-js's UpdateFlowNodeRefsHandler keeps them). */
class AssignLaneHandler {
  constructor(modeling) {
    this.modeling = modeling;
  }

  preExecute({ element, lanes, lane }) {
    const bo = element.businessObject;
    for (const old of lanes) {
      if (old !== lane && (old.flowNodeRef || []).includes(bo)) {
        this.modeling.updateModdleProperties(element, old, { flowNodeRef: old.flowNodeRef.filter((n) => n !== bo) });
      }
    }
    this.modeling.updateModdleProperties(element, lane, { flowNodeRef: [...(lane.flowNodeRef || []), bo] });
    this.modeling.updateModdleProperties(element, bo, { lanes: [lane] });
  }

  execute() { return []; }

  revert() { return []; }
}

function idProblem(id, moddle, registry) {
  if (!NCNAME.test(id)) return "标识须以英文字母或下划线开头，只含英文字母、数字、_ - .（不能有空格或中文）。";
  if (moddle.ids.assigned(id) || registry.get(id)) return `标识 ${id} 已被本流程中的其他元素使用。`;
  return "";
}

function isThrow(bo) {
  return bo.$instanceOf("bpmn:IntermediateThrowEvent") || bo.$instanceOf("bpmn:EndEvent");
}

function needsCondition(flow) {
  const source = flow.sourceRef;
  return source && (source.$instanceOf("bpmn:ExclusiveGateway") || source.$instanceOf("bpmn:InclusiveGateway")
    || (source.$instanceOf("bpmn:Activity") && (source.outgoing || []).length > 1)) && source.default !== flow;
}

const TYPES = {
  "bpmn:UserTask": "用户任务", "bpmn:ScriptTask": "脚本任务", "bpmn:ManualTask": "手工任务", "bpmn:Task": "任务",
  "bpmn:ServiceTask": "服务任务", "bpmn:SendTask": "发送任务", "bpmn:ReceiveTask": "接收任务",
  "bpmn:CallActivity": "调用活动", "bpmn:SubProcess": "子流程", "bpmn:StartEvent": "开始事件",
  "bpmn:EndEvent": "结束事件", "bpmn:IntermediateCatchEvent": "中间捕获事件",
  "bpmn:IntermediateThrowEvent": "中间抛出事件", "bpmn:BoundaryEvent": "边界事件",
  "bpmn:ExclusiveGateway": "排他网关", "bpmn:ParallelGateway": "并行网关", "bpmn:InclusiveGateway": "包容网关",
  "bpmn:EventBasedGateway": "事件网关", "bpmn:SequenceFlow": "顺序流", "bpmn:Lane": "泳道",
  "bpmn:Participant": "池", "bpmn:Process": "流程",
};

function typeLabel(bo) {
  return TYPES[bo.$type] || bo.$type.replace("bpmn:", "");
}
