// Where each shape goes. bpmn-auto-layout gives every scope (the process, each sub-process)
// a grid; this keeps its columns (the x order of the work) and, for the process itself, moves
// each element into its lane's horizontal band of the pool: one row per grid row the lane
// needs, so elements of one lane that shared a column get rows of their own.
import { CELL_HEIGHT } from './route.mjs';

export const POOL_HEADER = 30;    // bpmn-js draws the pool's and each lane's name in a 30 px band
const SHIFT_X = 2 * POOL_HEADER;  // grid column 0 starts right of both name bands
const MARGIN = 40;
const EMPTY_LANE = 60;            // a lane with no element of the process itself (its work is in a sub-process)

const isA = (el, type) => el.$instanceOf(type);

/** The leaf lanes of a process in document order (nested lane sets are not drawn here). */
export function lanesOf(process) {
  const lanes = (process.laneSets || []).flatMap((set) => set.lanes || []);
  if (lanes.some((lane) => lane.childLaneSet)) throw new Error(`${process.id}: nested lanes are not supported`);
  return lanes;
}

/** Spread each host's boundary events along its lower edge (bpmn-auto-layout stacks them at
 * the middle). `bounds`: Map id → bounds, changed in place. */
export function spreadBoundaries(nodes, bounds) {
  const byHost = new Map();
  for (const node of nodes.filter((el) => isA(el, 'bpmn:BoundaryEvent'))) {
    const host = node.attachedToRef.id;
    byHost.set(host, [...(byHost.get(host) || []), node]);
  }
  for (const [host, events] of byHost) {
    const h = bounds.get(host);
    events.forEach((event, i) => {
      const b = bounds.get(event.id);
      bounds.set(event.id, { ...b, x: h.x + (h.width * (i + 1)) / (events.length + 1) - b.width / 2,
        y: h.y + h.height - b.height / 2 });
    });
  }
}

/** The lane index of each node of the process: by the lanes' flowNodeRefs; a data object
 * reference goes with the activity that reads or writes it; anything else unlaned with the
 * node its first incoming flow comes from, or the first lane. */
function laneIndex(process, lanes, nodes) {
  const index = new Map();
  lanes.forEach((lane, i) => (lane.flowNodeRef || []).forEach((node) => index.set(node.id, i)));
  for (const node of nodes) {
    for (const a of node.dataInputAssociations || []) {
      for (const ref of a.sourceRef || []) if (!index.has(ref.id) && index.has(node.id)) index.set(ref.id, index.get(node.id));
    }
    for (const a of node.dataOutputAssociations || []) {
      if (a.targetRef && !index.has(a.targetRef.id) && index.has(node.id)) index.set(a.targetRef.id, index.get(node.id));
    }
  }
  for (const node of nodes) {
    if (index.has(node.id)) continue;
    const from = (node.incoming || [])[0]?.sourceRef;
    index.set(node.id, from && index.has(from.id) ? index.get(from.id) : 0);
  }
  return index;
}

/** The pool: bounds for the participant, its lanes and the process's nodes (placed from the
 * grid `grid`: Map id → bpmn-auto-layout bounds). Returns Map id → bounds. */
export function arrangePool(participant, process, nodes, grid) {
  const lanes = lanesOf(process);
  const lane = laneIndex(process, lanes, nodes);
  const placed = nodes.filter((el) => !isA(el, 'bpmn:BoundaryEvent') && grid.has(el.id));
  const cell = (el) => {
    const b = grid.get(el.id);
    return { row: Math.round((b.y + b.height / 2 - CELL_HEIGHT / 2) / CELL_HEIGHT), x: b.x, right: b.x + b.width };
  };
  placed.sort((a, b) => cell(a).row - cell(b).row || cell(a).x - cell(b).x);
  const rows = [];   // per lane: rows (each a list of occupied x ranges) and grid row → preferred row
  const rowOf = new Map();
  for (const el of placed) {
    const l = lane.get(el.id);
    rows[l] = rows[l] || { taken: [], prefer: new Map() };
    const { row, x, right } = cell(el);
    const free = (r) => !(rows[l].taken[r] || []).some(([a, b]) => x < b + 20 && right > a - 20);
    let r = rows[l].prefer.get(row);
    if (r === undefined || !free(r)) {
      r = 0;
      while (!free(r)) r += 1;
    }
    if (!rows[l].prefer.has(row)) rows[l].prefer.set(row, r);
    (rows[l].taken[r] = rows[l].taken[r] || []).push([x, right]);
    rowOf.set(el.id, r);
  }
  const bands = Math.max(lanes.length, 1);
  const tops = [];
  let y = 0;
  for (let l = 0; l < bands; l += 1) {
    tops.push(y);
    const used = (rows[l] || { taken: [] }).taken.length;
    y += used ? used * CELL_HEIGHT : EMPTY_LANE;
  }
  const bounds = new Map();
  let right = 600;
  for (const el of placed) {
    const b = grid.get(el.id);
    const top = tops[lane.get(el.id)] + rowOf.get(el.id) * CELL_HEIGHT;
    bounds.set(el.id, { ...b, x: b.x + SHIFT_X, y: top + (CELL_HEIGHT - b.height) / 2 });
    right = Math.max(right, b.x + SHIFT_X + b.width + MARGIN);
  }
  for (const el of nodes.filter((n) => isA(n, 'bpmn:BoundaryEvent'))) bounds.set(el.id, { ...grid.get(el.id) });
  spreadBoundaries(nodes, bounds);
  bounds.set(participant.id, { x: 0, y: 0, width: right, height: y });
  lanes.forEach((ln, l) => bounds.set(ln.id, { x: POOL_HEADER, y: tops[l], width: right - POOL_HEADER,
    height: (l + 1 < tops.length ? tops[l + 1] : y) - tops[l] }));
  return bounds;
}
