// bpmn-js recomputes a moved shape's lanes from the lane bands drawn on its plane. A task inside
// a drilled-down sub-process sits on a plane with no bands (persuasion's lanes are drawn on the
// main plane), so a move, a resize or a space-tool drag took it out of its lane, silently — and
// SpiffWorkflow routes a task by its lane's flowNodeRef list. On a plane without bands the lists
// stay as they are; the side panel changes them (panel.js, "泳道").
export const keepLanesModule = {
  __init__: ["keepLanesOnPlanesWithoutBands"],
  keepLanesOnPlanesWithoutBands: ["type", KeepLanes],
};

function KeepLanes(eventBus, elementRegistry) {
  eventBus.on("commandStack.lane.updateRefs.preExecute", 2000, ({ context }) => {
    // A deleted shape has no parent: bpmn-js then takes it out of every lane, as it should.
    context.flowNodeShapes = (context.flowNodeShapes || []).filter(
      (shape) => !shape.parent || hasBands(rootOf(shape), elementRegistry));
  });
}
KeepLanes.$inject = ["eventBus", "elementRegistry"];

function rootOf(element) {
  let node = element;
  while (node.parent) node = node.parent;
  return node;
}

function hasBands(root, elementRegistry) {
  return Boolean(elementRegistry.find((e) => e.type === "bpmn:Lane" && rootOf(e) === root));
}
