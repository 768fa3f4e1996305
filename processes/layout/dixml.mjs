// The BPMNDI part of a process file as text: strip the old, render the new, put it in.
// Everything outside the BPMNDiagram elements stays byte for byte (the engine parses these
// files, and reviewers read their diffs), so this works on the text, not on a re-serialised model.

const NS = {
  bpmndi: 'http://www.omg.org/spec/BPMN/20100524/DI',
  dc: 'http://www.omg.org/spec/DD/20100524/DC',
  di: 'http://www.omg.org/spec/DD/20100524/DI',
};

/** The prefix a document binds to a namespace URI, or null. */
function prefixOf(xml, uri) {
  const found = xml.match(new RegExp(`xmlns:([\\w.-]+)="${uri.replace(/[.]/g, '\\.')}"`));
  return found ? found[1] : null;
}

/** The document without its BPMNDiagram elements (and the blank lines they leave). */
export function stripDi(xml) {
  const prefix = prefixOf(xml, NS.bpmndi);
  if (!prefix) return xml;
  const diagram = new RegExp(`\\n[ \\t]*<${prefix}:BPMNDiagram\\b[\\s\\S]*?</${prefix}:BPMNDiagram>`, 'g');
  return xml.replace(diagram, '');
}

/** The document with `diText` (rendered with the bpmndi/dc/di prefixes) before the closing
 * definitions tag, declaring the three namespaces on the root element where missing. */
export function insertDi(xml, diText) {
  for (const [prefix, uri] of Object.entries(NS)) {
    const bound = prefixOf(xml, uri);
    if (bound && bound !== prefix) {
      throw new Error(`namespace ${uri} is bound to "${bound}", expected "${prefix}"`);
    }
  }
  const root = xml.match(/<([\w.-]+):definitions\b([^>]*)>/);
  if (!root) throw new Error('no definitions root element');
  let start = root[0];
  // After the BPMN model's declaration, one per line where the root's attributes are so.
  const anchor = start.match(/xmlns:[\w.-]+="http:\/\/www\.omg\.org\/spec\/BPMN\/20100524\/MODEL"/);
  const indent = start.match(/\n([ \t]+)\S/);
  const separator = indent ? `\n${indent[1]}` : ' ';
  const declarations = Object.entries(NS)
    .filter(([, uri]) => !prefixOf(xml, uri))
    .map(([prefix, uri]) => `${separator}xmlns:${prefix}="${uri}"`).join('');
  if (declarations) {
    start = anchor ? start.replace(anchor[0], anchor[0] + declarations)
      : start.replace(/(\/?>)$/, `${declarations}$1`);
  }
  const close = `</${root[1]}:definitions>`;
  const at = xml.lastIndexOf(close);
  if (at < 0) throw new Error('no closing definitions tag');
  const head = xml.slice(0, at).replace(/[ \t]*$/, '').replace(root[0], start);
  return `${head}${diText}${xml.slice(at)}`;
}

const n = (value) => String(Math.round(value));

/** Text of one BPMNDiagram: `plane` = {id (element the plane shows), shapes: [{id, bounds,
 * horizontal?, expanded?}], edges: [{id, waypoints: [{x, y}]}]}; `diId(id)` names a DI element. */
export function renderDiagram(plane, diId) {
  const lines = [
    `  <bpmndi:BPMNDiagram id="${diId(`BPMNDiagram_${plane.id}`)}">`,
    `    <bpmndi:BPMNPlane id="${diId(`BPMNPlane_${plane.id}`)}" bpmnElement="${plane.id}">`,
  ];
  for (const shape of plane.shapes) {
    const flags = (shape.horizontal ? ' isHorizontal="true"' : '')
      + (shape.expanded === false ? ' isExpanded="false"' : '');
    const b = shape.bounds;
    lines.push(`      <bpmndi:BPMNShape id="${diId(`${shape.id}_di`)}" bpmnElement="${shape.id}"${flags}>`,
      `        <dc:Bounds x="${n(b.x)}" y="${n(b.y)}" width="${n(b.width)}" height="${n(b.height)}" />`,
      '      </bpmndi:BPMNShape>');
  }
  for (const edge of plane.edges) {
    lines.push(`      <bpmndi:BPMNEdge id="${diId(`${edge.id}_di`)}" bpmnElement="${edge.id}">`,
      ...edge.waypoints.map((p) => `        <di:waypoint x="${n(p.x)}" y="${n(p.y)}" />`),
      '      </bpmndi:BPMNEdge>');
  }
  lines.push('    </bpmndi:BPMNPlane>', '  </bpmndi:BPMNDiagram>');
  return lines.join('\n');
}

/** A namer of DI ids that never reuses an id of the document (or one it already gave). */
export function diIdNamer(xml) {
  const taken = new Set([...xml.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
  return (wanted) => {
    let id = wanted;
    for (let i = 2; taken.has(id); i += 1) id = `${wanted}_${i}`;
    taken.add(id);
    return id;
  };
}
