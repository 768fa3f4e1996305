"""api/static/editor/lanerefs.js, run by Node: bpmn-js recomputes a moved shape's lanes from the
lane bands on its plane, which a drilled-down sub-process does not draw, so a move took a task
out of its lane (second tryout). The module keeps such shapes out of that recomputation and
leaves shapes on a plane with bands, and deleted shapes (out of every lane), to bpmn-js."""
from __future__ import annotations

import json
import shutil
import subprocess

from api.settings import ROOT

SCRIPT = """
import { keepLanesModule } from "%s";
const main = { id: "main" }, sub = { id: "sub_plane" };
const lane = { type: "bpmn:Lane", parent: main };
const onMain = { id: "phone_call", parent: main }, onSub = { id: "legal_education", parent: sub };
const deleted = { id: "removed_task", parent: null };
let listener = null;
const eventBus = { on(name, priority, fn) { if (name === "commandStack.lane.updateRefs.preExecute") listener = fn; } };
const elementRegistry = { find: (test) => [lane, onMain, onSub].find(test) };
const [, Type] = keepLanesModule.keepLanesOnPlanesWithoutBands;
new Type(eventBus, elementRegistry);
const context = { flowNodeShapes: [onMain, onSub, deleted], laneShapes: [] };
listener({ context });
console.log(JSON.stringify({ init: keepLanesModule.__init__, kept: context.flowNodeShapes.map((s) => s.id) }));
"""


def test_shapes_on_a_plane_without_lane_bands_keep_their_lanes():
    node = shutil.which("node")
    assert node, "Node.js is required (make install)"
    module = (ROOT / "api" / "static" / "editor" / "lanerefs.js").as_uri()
    out = subprocess.run([node, "--input-type=module", "-e", SCRIPT % module], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"init": ["keepLanesOnPlanesWithoutBands"], "kept": ["phone_call", "removed_task"]}
