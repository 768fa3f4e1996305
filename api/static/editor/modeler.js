// bpmn-js's Modeler (the package's UMD build, window.BpmnJS) with our spiffworkflow moddle
// descriptor, Chinese labels and the lint bundle (window.BaoxueLint, web/editor-lint.mjs).
import { translateModule } from "./translate.js";
import { paletteModule } from "./palette.js";
import { laneLabelsModule } from "./lanes.js";
import { keepLanesModule } from "./lanerefs.js";

/** `roles`: [{code, name}] (the page's boot), shown on lane labels (lanes.js). */
export async function createModeler(container, roles) {
  const descriptor = await (await fetch("/static/editor/spiffworkflow.json")).json();
  const lint = window.BaoxueLint;
  return new window.BpmnJS({
    container,
    moddleExtensions: { spiffworkflow: descriptor },
    linting: lint ? { active: true, bpmnlint: lint.config } : undefined,
    additionalModules: [translateModule, paletteModule, keepLanesModule,
      laneLabelsModule(Object.fromEntries(roles.map((r) => [r.code, r.name]))), ...(lint ? [lint.module] : [])],
  });
}

/** Import XML so that an unedited export keeps what SpiffWorkflow reads:
 * - a multi-instance's loopDataInputRef / loopDataOutputRef names a task-data variable, not an
 *   element id: bpmn-moddle reports it unresolved and would drop it on export; we keep it as a
 *   reference to a detached element with that id (serialised as the same text);
 * - files written without <incoming>/<outgoing> get them from the flows (bpmnlint and bpmn-js's
 *   rules read them; SpiffWorkflow reads sourceRef/targetRef, so adding them changes nothing). */
export async function importDiagram(modeler, xml) {
  const { warnings } = await modeler.importXML(xml);
  const moddle = modeler.get("moddle");
  for (const w of warnings) {
    if (w.element && w.property && w.value && /unresolved reference/.test(w.message)) {
      w.element.set(w.property, moddle.create("bpmn:DataInput", { id: w.value }));
    }
  }
  fillFlowRefs(modeler);
  return warnings.filter((w) => !/unresolved reference/.test(w.message));
}

function fillFlowRefs(modeler) {
  for (const element of modeler.get("elementRegistry").filter((e) => e.type === "bpmn:SequenceFlow")) {
    const flow = element.businessObject;
    for (const [node, key] of [[flow.sourceRef, "outgoing"], [flow.targetRef, "incoming"]]) {
      if (!node) continue;
      const list = node.get(key);
      if (!list.includes(flow)) list.push(flow);
    }
  }
}

export async function exportDiagram(modeler) {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}
