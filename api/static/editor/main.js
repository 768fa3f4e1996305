// The process editor page (/processes/<key>/edit, templates/process_edit.html): wires the modeler,
// the side panel, the form editor, the problem list and drafts/deploy together.
// State: the diagram lives in the modeler; `forms` holds the form files edited or created here
// ({name: text}); a draft stores both ({files: {bpmn file name: xml, ...forms}}).
import { createModeler, importDiagram, exportDiagram } from "./modeler.js";
import { Spiff } from "./spiff.js";
import { Panel } from "./panel.js";
import { FormEditor } from "./forms.js";
import { Problems } from "./problems.js";
import { Drafts } from "./drafts.js";
import { call } from "./http.js";

const page = document.querySelector("[data-process-editor]");
const boot = JSON.parse(document.getElementById("pe-boot").textContent);

async function start() {
  const modeler = await createModeler(page.querySelector(".pe-canvas"), boot.roles);
  const source = await call("GET", `/processes/${encodeURIComponent(boot.process_key)}/edit/source`);
  const forms = {};
  const state = { dirty: false };
  const files = async () => ({ [boot.file_name]: await exportDiagram(modeler), ...forms });

  const problems = new Problems(page.querySelector("[data-problems]"), {
    modeler, files, onServer: () => drafts.refreshButtons(),
  });
  const changed = () => { state.dirty = true; problems.schedule(); drafts.refreshButtons(); };
  const formEditor = new FormEditor(page.querySelector("#pe-forms"), {
    files: forms, serverNames: () => source.forms, changed,
  });
  formEditor.processKey = boot.process_key;
  const showTab = (name) => {
    for (const tab of page.querySelectorAll("[data-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    for (const panel of page.querySelectorAll("[data-tab-panel]")) panel.hidden = panel.dataset.tabPanel !== name;
  };
  page.querySelector(".pe-tabs").addEventListener("click", (event) => {
    const tab = event.target.closest("[data-tab]");
    if (tab) showTab(tab.dataset.tab);
  });
  new Panel(page.querySelector("[data-panel]"), {
    modeler, spiff: new Spiff(modeler), roles: boot.roles, baseIds: idsOf(source.bpmn), formNames: () => formEditor.names(),
    newForm: (base) => formEditor.create(base),
    openForm: (name) => { showTab("forms"); formEditor.open(name); },
  });
  const drafts = new Drafts(page.querySelector("[data-drafts]"), {
    boot, state, problems, files,
    load: async (draft) => {
      for (const name of Object.keys(forms)) delete forms[name];
      for (const [name, text] of Object.entries(draft.files)) if (name.endsWith(".json")) forms[name] = text;
      await load(draft.files[boot.file_name] || source.bpmn);
      formEditor.listNames();
    },
  });

  async function load(xml) {
    const warnings = await importDiagram(modeler, xml);
    if (warnings.length) console.warn("import", warnings.map((w) => w.message));
    modeler.get("canvas").zoom("fit-viewport", "auto");
    state.dirty = false;
    problems.schedule();
    drafts.refreshButtons();
  }

  modeler.get("eventBus").on("commandStack.changed", changed);
  // Drilling into a sub-process shows its plane at 1:1 from the top left: fit it instead.
  modeler.get("eventBus").on("root.set", () => window.setTimeout(() => modeler.get("canvas").zoom("fit-viewport", "auto")));
  await load(source.bpmn);
  await drafts.list();
  window.addEventListener("beforeunload", (event) => {
    if (!state.dirty) return;
    event.preventDefault();
    event.returnValue = "";   // the browser asks whether to leave: unsaved changes would be lost
  });
  page.dataset.ready = "true";
}

/** The ids in the latest deployed version's XML: their elements keep their 标识 (panel.js). */
function idsOf(xml) {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  return new Set([...doc.querySelectorAll("[id]")].map((node) => node.getAttribute("id")));
}

start().catch((err) => {
  console.error(err);
  page.querySelector("[data-status]").textContent = `编辑器无法加载：${err.message}`;
});
