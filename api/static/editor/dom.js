// Small DOM builders for the editor's panels (no inline styles or handlers: the page's CSP allows none).

export function el(tag, className, text, children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
  if (children) node.append(...children);
  return node;
}

let counter = 0;

/** A labelled row: <label for> the control, with an optional help line under it. */
export function field(label, control, help) {
  const row = el("div", "pe-field");
  const target = control.matches?.("input, select, textarea") ? control : control.querySelector("input, select, textarea");
  const name = el("label", "pe-label", label);
  if (target) {
    target.id = target.id || `pe-${++counter}`;
    name.htmlFor = target.id;
  }
  row.append(name, control);
  if (help) row.append(el("p", "help", help));
  return row;
}

export function textInput(value, placeholder) {
  const input = el("input");
  input.type = "text";
  input.value = value || "";
  if (placeholder) input.placeholder = placeholder;
  return input;
}

export function textArea(value, rows, className) {
  const area = el("textarea", className);
  area.rows = rows || 4;
  area.value = value || "";
  area.spellcheck = false;
  return area;
}

export function select(options, value) {
  const node = el("select");
  for (const [key, label] of options) {
    const option = el("option", "", label);
    option.value = key;
    node.append(option);
  }
  node.value = value ?? "";
  return node;
}

export function note(text) {
  return el("p", "help", text);
}
