#!/usr/bin/env node
// Draw every process file: `node processes/layout/layout.mjs processes/*.bpmn` (make layout).
// Runs bpmn-auto-layout on the file without its old drawing, then arranges the result
// (arrange.mjs: lanes as bands of the pool; route.mjs: orthogonal flows) and writes the
// BPMNDI back into the file, leaving every other byte as it was (dixml.mjs). Sub-processes
// stay collapsed as bpmn-auto-layout draws them, each with a plane of its own to drill into.
// Re-runnable: the drawing it writes is replaced the next time. docs/processes.md "The drawing".
import fs from 'node:fs';
import { layoutProcess } from 'bpmn-auto-layout';
import { BpmnModdle } from 'bpmn-moddle';

import { arrangePool, spreadBoundaries } from './arrange.mjs';
import { diIdNamer, insertDi, renderDiagram, stripDi } from './dixml.mjs';
import { route, straight } from './route.mjs';

const isA = (el, type) => el.$instanceOf(type);

/** The shapes of one scope (a process or sub-process): flow nodes and data references. */
const nodesOf = (scope) => (scope.flowElements || []).filter((el) => isA(el, 'bpmn:FlowNode')
  || isA(el, 'bpmn:DataObjectReference') || isA(el, 'bpmn:DataStoreReference'));

/** The lines of one scope: sequence flows, then data associations (which have no order). */
function edgesOf(scope, nodes, bounds) {
  const shapes = nodes.map((el) => bounds.get(el.id));
  const edge = (id, waypoints) => ({ id, waypoints: waypoints.length > 1 ? waypoints : [waypoints[0], waypoints[0]] });
  const edges = [];
  for (const flow of (scope.flowElements || []).filter((el) => isA(el, 'bpmn:SequenceFlow'))) {
    const [s, t] = [bounds.get(flow.sourceRef.id), bounds.get(flow.targetRef.id)];
    const obstacles = shapes.filter((b) => b !== s && b !== t);
    edges.push(edge(flow.id, route(s, t, obstacles, isA(flow.sourceRef, 'bpmn:BoundaryEvent'))));
  }
  for (const node of nodes) {
    // A reference in an enclosing scope is on another plane: no line can join them.
    for (const a of node.dataInputAssociations || []) {
      const from = bounds.get(a.sourceRef?.[0]?.id);
      if (from) edges.push(edge(a.id, straight(from, bounds.get(node.id))));
    }
    for (const a of node.dataOutputAssociations || []) {
      const to = bounds.get(a.targetRef?.id);
      if (to) edges.push(edge(a.id, straight(bounds.get(node.id), to)));
    }
  }
  return edges;
}

function shapesOf(nodes, bounds) {
  // Boundary events after the hosts, so that they are drawn over them.
  const order = [...nodes.filter((el) => !isA(el, 'bpmn:BoundaryEvent')), ...nodes.filter((el) => isA(el, 'bpmn:BoundaryEvent'))];
  return order.map((el) => ({ id: el.id, bounds: bounds.get(el.id), expanded: isA(el, 'bpmn:SubProcess') ? false : undefined }));
}

function subProcesses(scope) {
  return (scope.flowElements || []).filter((el) => isA(el, 'bpmn:SubProcess')).flatMap((sp) => [sp, ...subProcesses(sp)]);
}

/** The planes of a definitions model whose DI is bpmn-auto-layout's (one plane, every scope's
 * grid drawn in it from (0, 0)). */
export function planesOf(definitions) {
  const grid = new Map();
  for (const di of definitions.diagrams.flatMap((d) => d.plane.planeElement || [])) {
    if (di.bounds) grid.set(di.bpmnElement.id, { x: di.bounds.x, y: di.bounds.y, width: di.bounds.width, height: di.bounds.height });
  }
  const processes = definitions.rootElements.filter((el) => isA(el, 'bpmn:Process'));
  if (processes.length !== 1) throw new Error(`expected one process per file, found ${processes.length}`);
  const [process] = processes;
  const collaboration = definitions.rootElements.find((el) => isA(el, 'bpmn:Collaboration'));
  const participant = collaboration?.participants?.find((p) => p.processRef === process);
  if (!participant) throw new Error(`${process.id}: no participant in a collaboration refers to the process`);
  if ((collaboration.messageFlows || []).length) throw new Error(`${collaboration.id}: message flows are not drawn yet`);
  const check = (nodes) => nodes.forEach((el) => { if (!grid.has(el.id)) throw new Error(`bpmn-auto-layout placed no ${el.id}`); });

  const nodes = nodesOf(process);
  check(nodes);
  const bounds = arrangePool(participant, process, nodes, grid);
  const lanes = (process.laneSets || []).flatMap((set) => set.lanes || []);
  const planes = [{
    id: collaboration.id,
    shapes: [{ id: participant.id, bounds: bounds.get(participant.id), horizontal: true },
      ...lanes.map((lane) => ({ id: lane.id, bounds: bounds.get(lane.id), horizontal: true })),
      ...shapesOf(nodes, bounds)],
    edges: edgesOf(process, nodes, bounds),
  }];
  for (const sub of subProcesses(process)) {
    const inner = nodesOf(sub);
    check(inner);
    const placed = new Map(inner.map((el) => [el.id, { ...grid.get(el.id) }]));
    spreadBoundaries(inner, placed);
    planes.push({ id: sub.id, shapes: shapesOf(inner, placed), edges: edgesOf(sub, inner, placed) });
  }
  return planes;
}

/** The document as bpmn-auto-layout should read it. It follows only the nodes' own
 * incoming/outgoing lists, which BPMN leaves optional (home_teaching.bpmn has none): rebuilt
 * here from the sequence flows. Each node's outgoing flows are ordered so that those leading
 * to a join (a node with several incoming flows) come last: bpmn-auto-layout 1.3 skips such a
 * target while its other inputs are unplaced, then places the next target "below" the skipped
 * one, which is nowhere in its grid (it fails, or loses the element). */
async function forLayout(xml) {
  const moddle = new BpmnModdle();
  const { rootElement } = await moddle.fromXML(xml);
  const visit = (scope) => {
    const elements = scope.flowElements || [];
    const flows = elements.filter((el) => isA(el, 'bpmn:SequenceFlow'));
    const joins = (flow) => (flows.filter((f) => f.targetRef === flow.targetRef).length > 1 ? 1 : 0);
    for (const el of elements.filter((e) => isA(e, 'bpmn:FlowNode'))) {
      el.incoming = flows.filter((f) => f.targetRef === el);
      el.outgoing = flows.filter((f) => f.sourceRef === el).sort((a, b) => joins(a) - joins(b));
      visit(el);
    }
  };
  rootElement.rootElements.filter((el) => isA(el, 'bpmn:Process')).forEach(visit);
  return (await moddle.toXML(rootElement)).xml;
}

/** The file's text with a new drawing. */
export async function layoutText(xml) {
  const bare = stripDi(xml);
  const laidOut = await layoutProcess(await forLayout(bare));
  const { rootElement, warnings } = await new BpmnModdle().fromXML(laidOut);
  const unknown = warnings.filter((w) => !/unknown|unparsable content/.test(w.message));
  if (unknown.length) throw new Error(unknown.map((w) => w.message).join('; '));
  const diId = diIdNamer(bare);
  const text = planesOf(rootElement).map((plane) => renderDiagram(plane, diId)).join('\n');
  return insertDi(bare, `${text}\n`);
}

async function main(paths) {
  if (!paths.length) {
    console.error('usage: node processes/layout/layout.mjs FILE.bpmn ...');
    process.exit(2);
  }
  let failed = 0;
  for (const path of paths) {
    try {
      const before = fs.readFileSync(path, 'utf8');
      const after = await layoutText(before);
      if (after !== before) fs.writeFileSync(path, after);
      console.log(`${after === before ? 'unchanged' : 'laid out '} ${path}`);
    } catch (err) {
      failed += 1;
      console.error(`${path}: ${err.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
