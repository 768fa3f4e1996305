// The form editor tab: a form's JSON Schema and UI schema as text, checked as you type (the
// line and column of a JSON syntax error), with a live preview the server renders from the same
// Jinja macros as the task page (POST /processes/forms/preview). Edited and new form files are
// kept in `files` ({name: text}) and saved and deployed with the draft's BPMN.
import { call, reason } from "./http.js";
import { el } from "./dom.js";

const STARTER_SCHEMA = { type: "object", required: ["note"], properties: { note: { type: "string", title: "办理情况" } } };
const STARTER_UI = { note: { "ui:widget": "textarea" } };

export class FormEditor {
  constructor(section, { files, serverNames, changed }) {
    this.section = section;
    this.files = files;               // the draft's form files being edited: {name: text}
    this.serverNames = serverNames;   // () -> form file names the server has (deployed version, forms/)
    this.changed = changed;           // called after any edit (marks the draft unsaved, re-validates)
    this.picker = section.querySelector("[data-form-pick]");
    this.schema = section.querySelector("[data-form-schema]");
    this.ui = section.querySelector("[data-form-ui]");
    this.schemaState = section.querySelector("[data-form-schema-state]");
    this.uiState = section.querySelector("[data-form-ui-state]");
    this.preview = section.querySelector("[data-form-preview]");
    this.picker.addEventListener("change", () => this.open(this.picker.value));
    for (const area of [this.schema, this.ui]) area.addEventListener("input", () => this.edited());
    this.listNames();
  }

  names() {
    return [...new Set([...this.serverNames(), ...Object.keys(this.files)])].sort();
  }

  listNames(current) {
    const schemas = this.names().filter((n) => n.endsWith(".schema.json"));
    this.picker.replaceChildren(new Option("请选择表单", ""), ...schemas.map((n) => new Option(n, n)));
    this.picker.value = current || this.current || "";
  }

  /** A new pair of files `base`.schema.json / `base`.uischema.json with a one-field starter form. */
  create(base) {
    const schema = `${base}.schema.json`;
    const ui = `${base}.uischema.json`;
    if (!(schema in this.files)) this.files[schema] = JSON.stringify(STARTER_SCHEMA, null, 2) + "\n";
    if (!(ui in this.files)) this.files[ui] = JSON.stringify(STARTER_UI, null, 2) + "\n";
    this.listNames(schema);
    this.changed();
    return [schema, ui];
  }

  async open(schemaName) {
    this.current = schemaName;
    this.listNames(schemaName);
    if (!schemaName) return;
    const uiName = schemaName.replace(/\.schema\.json$/, ".uischema.json");
    this.schema.value = await this.text(schemaName);
    this.ui.value = this.names().includes(uiName) ? await this.text(uiName) : "{}\n";
    this.uiName = uiName;
    this.check();
  }

  async text(name) {
    if (name in this.files) return this.files[name];
    const { text } = await call("GET", `/processes/${encodeURIComponent(this.processKey)}/edit/forms/${encodeURIComponent(name)}`);
    return text;
  }

  edited() {
    if (!this.current) return;
    this.files[this.current] = this.schema.value;
    this.files[this.uiName] = this.ui.value;
    this.changed();
    this.check();
  }

  /** Parse both texts; show a syntax error's line and column, or render the preview. */
  check() {
    const schema = parse(this.schema.value, this.schemaState);
    const ui = parse(this.ui.value, this.uiState);
    clearTimeout(this.timer);
    if (schema === undefined || ui === undefined) return;
    this.timer = setTimeout(() => this.render(schema, ui), 300);
  }

  async render(schema, uischema) {
    try {
      const { html } = await call("POST", "/processes/forms/preview", { schema, uischema });
      this.preview.innerHTML = html;   // server-rendered by the task page's macros, escaped there
    } catch (err) {
      this.preview.replaceChildren(el("p", "error", `无法预览：${reason(err)}`));
    }
  }

  /** Form files with a JSON syntax error (the deploy would refuse them): [{file, message}]. */
  problems() {
    const found = [];
    for (const [name, text] of Object.entries(this.files)) {
      const error = syntaxError(text);
      if (error) found.push({ file: name, message: error });
    }
    return found;
  }
}

function parse(text, stateNode) {
  const error = syntaxError(text);
  stateNode.textContent = error ? `JSON 格式错误：${error}` : "JSON 格式正确";
  stateNode.className = error ? "pe-json error" : "pe-json ok";
  return error ? undefined : JSON.parse(text);
}

/** "第 L 行第 C 列：…" for a JSON syntax error, "" when the text parses. */
export function syntaxError(text) {
  try {
    JSON.parse(text);
    return "";
  } catch (err) {
    const at = /position (\d+)/.exec(err.message);
    if (!at) return err.message;
    const before = text.slice(0, Number(at[1]));
    const line = before.split("\n").length;
    const column = Number(at[1]) - before.lastIndexOf("\n");
    return `第 ${line} 行第 ${column} 列：${err.message.replace(/ in JSON at position \d+.*$/, "")}`;
  }
}
