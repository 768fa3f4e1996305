// Orthogonal waypoints for sequence flows between placed shapes: a few candidate routes per
// flow, the one crossing the fewest other shapes wins (then the one with fewer bends).
// The layout keeps bpmn-auto-layout's grid columns (150 wide, shapes centred in them), so the
// middle of the gap between two columns is a free lane for vertical segments.

export const CELL_WIDTH = 150;
export const CELL_HEIGHT = 140;
const GAP = CELL_WIDTH / 2;   // from a shape's centre to the middle of the gap beside its column
const CLEAR = 20;             // how far a loop runs below or above the shapes it joins

const mid = (b) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 });

function crosses(segment, box) {
  const [a, b] = segment;
  const [x1, x2] = [Math.min(a.x, b.x), Math.max(a.x, b.x)];
  const [y1, y2] = [Math.min(a.y, b.y), Math.max(a.y, b.y)];
  return x2 > box.x + 2 && x1 < box.x + box.width - 2 && y2 > box.y + 2 && y1 < box.y + box.height - 2;
}

function tidy(points) {
  const out = [];
  for (const p of points.map((q) => ({ x: Math.round(q.x), y: Math.round(q.y) }))) {
    const last = out[out.length - 1];
    if (last && last.x === p.x && last.y === p.y) continue;
    const before = out[out.length - 2];
    if (before && last && ((before.x === last.x && last.x === p.x) || (before.y === last.y && last.y === p.y))) {
      out[out.length - 1] = p;   // collinear: the middle point says nothing
    } else {
      out.push(p);
    }
  }
  return out;
}

function candidates(s, t, fromBoundary) {
  const sm = mid(s);
  const tm = mid(t);
  const right = { x: s.x + s.width, y: sm.y };
  const bottom = { x: sm.x, y: s.y + s.height };
  const top = { x: sm.x, y: s.y };
  const left = { x: t.x, y: tm.y };
  const tTop = { x: tm.x, y: t.y };
  const tBottom = { x: tm.x, y: t.y + t.height };
  const below = Math.max(s.y + s.height, t.y + t.height) + CLEAR;
  const above = Math.min(s.y, t.y) - CLEAR;
  const routes = [];
  if (fromBoundary) {
    // A boundary event sits on its host's lower edge: leave it downwards.
    const drop = s.y + s.height + CLEAR;
    if (t.x > sm.x && tm.y > s.y + s.height) routes.push([bottom, { x: sm.x, y: tm.y }, left]);
    if (t.x > sm.x) routes.push([bottom, { x: sm.x, y: drop }, { x: tm.x - GAP, y: drop }, { x: tm.x - GAP, y: tm.y }, left]);
    routes.push([bottom, { x: sm.x, y: below }, { x: tm.x, y: below }, tBottom]);
    if (tm.y > drop) routes.push([bottom, { x: sm.x, y: drop }, { x: tm.x, y: drop }, tTop]);
    return routes;
  }
  if (t.x >= s.x + s.width) {
    if (Math.abs(sm.y - tm.y) < 1) routes.push([right, { x: t.x, y: sm.y }]);
    routes.push([right, { x: sm.x + GAP, y: sm.y }, { x: sm.x + GAP, y: tm.y }, left]);
    routes.push([right, { x: tm.x - GAP, y: sm.y }, { x: tm.x - GAP, y: tm.y }, left]);
    routes.push([tm.y > sm.y ? bottom : top, { x: sm.x, y: tm.y }, left]);
    routes.push([right, { x: tm.x, y: sm.y }, tm.y > sm.y ? tTop : tBottom]);
    // Along the free band between two grid rows (shapes are centred in their 140 px cells),
    // next to the target's row or the source's: longer, but it crosses no shape on the way.
    // (Not above the first row: that band is the pool's edge.)
    const channels = [tm.y - CELL_HEIGHT / 2, tm.y + CELL_HEIGHT / 2, sm.y - CELL_HEIGHT / 2, sm.y + CELL_HEIGHT / 2];
    for (const channel of channels.filter((y) => y > CELL_HEIGHT / 4)) {
      routes.push([right, { x: sm.x + GAP, y: sm.y }, { x: sm.x + GAP, y: channel }, { x: tm.x - GAP, y: channel },
        { x: tm.x - GAP, y: tm.y }, left]);
    }
  } else {
    // Back (a loop) or in the same column.
    if (Math.abs(sm.x - tm.x) < 1 && t.y > s.y) routes.push([bottom, tTop]);
    if (Math.abs(sm.x - tm.x) < 1 && t.y < s.y) routes.push([top, tBottom]);
    routes.push([bottom, { x: sm.x, y: below }, { x: tm.x, y: below }, tBottom]);
    routes.push([top, { x: sm.x, y: above }, { x: tm.x, y: above }, tTop]);
    routes.push([right, { x: sm.x + GAP, y: sm.y }, { x: sm.x + GAP, y: below },
      { x: tm.x - GAP, y: below }, { x: tm.x - GAP, y: tm.y }, left]);
  }
  return routes;
}

/** Waypoints from shape `s` to shape `t` (bounds), avoiding `obstacles` (bounds, excluding s and t)
 * where one of the candidate routes can. */
export function route(s, t, obstacles, fromBoundary = false) {
  let best = null;
  for (const points of candidates(s, t, fromBoundary)) {
    const path = tidy(points);
    const segments = path.slice(1).map((p, i) => [path[i], p]);
    const hits = obstacles.filter((box) => segments.some((seg) => crosses(seg, box))).length;
    const score = hits * 1000 + path.length;
    if (!best || score < best.score) best = { score, path };
  }
  return best.path;
}

/** A straight association line between two shapes, cut at their outlines. */
export function straight(s, t) {
  const a = mid(s);
  const b = mid(t);
  const cut = (box, from, to) => {
    const dx = to.x - from.x;
    const dy = to.y - from.y;
    const k = Math.min(dx ? box.width / 2 / Math.abs(dx) : Infinity, dy ? box.height / 2 / Math.abs(dy) : Infinity, 1);
    return { x: from.x + dx * k, y: from.y + dy * k };
  };
  return tidy([cut(s, a, b), cut(t, b, a)]);
}
