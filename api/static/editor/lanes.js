// Lane labels in people's words: a lane's `name` is a role code (livelihood_office) because the
// engine routes its tasks by it, so it must stay in the XML; on the canvas the lane shows the
// role's Chinese name instead (the viewer, static/trace_diagram.js, rewrites its XML copy; the
// editor must export what it imported, so here only the drawing changes).
// bpmn-js's renderer keeps its per-type drawing functions in `bpmnRenderer.handlers` and looks
// them up on every draw; we wrap the lane's to draw with a stand-in whose name is the role's.

class LaneLabels {
  constructor(bpmnRenderer, laneRoleNames) {
    const draw = bpmnRenderer.handlers["bpmn:Lane"];
    bpmnRenderer.handlers["bpmn:Lane"] = (parentGfx, element, attrs) => {
      const bo = element.businessObject;
      const label = laneRoleNames[bo.name];
      if (!label) return draw(parentGfx, element, attrs);
      const shown = Object.create(bo, { get: { value: (key) => (key === "name" ? label : bo.get(key)) } });
      return draw(parentGfx, Object.create(element, { businessObject: { value: shown } }), attrs);
    };
  }
}
LaneLabels.$inject = ["bpmnRenderer", "laneRoleNames"];

/** A bpmn-js module: `names` is {role code: Chinese name}. */
export function laneLabelsModule(names) {
  return { __init__: ["laneLabels"], laneLabels: ["type", LaneLabels], laneRoleNames: ["value", names] };
}
