// The process editor's lint bundle (api/static/editor/build/lint.js, built by `npm run build:editor`,
// which `make install` runs after `npm ci`): bpmn-js-bpmnlint's module and bpmnlint's recommended
// rules, with the rules that fight SpiffWorkflow's (and our processes') conventions turned off.
// Exposed as window.BaoxueLint = {module, config} for api/static/editor/modeler.js.
import lintModule from 'bpmn-js-bpmnlint';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import recommended from 'bpmnlint/config/recommended';

// Off, and why:
//  fake-join, no-gateway-join-fork: SpiffWorkflow merges several incoming flows on a task and lets a
//    gateway both join and fork; our processes rely on both (loops back to a step, retries).
//  no-inclusive-gateway: SpiffWorkflow runs inclusive gateways correctly.
//  global: messages and escalations are shared between process files (thrown in one, caught in another).
//  no-bpmndi: our own test suite already refuses a process file without complete DI.
const OFF = ['fake-join', 'no-gateway-join-fork', 'no-inclusive-gateway', 'global', 'no-bpmndi'];
// Unnamed start and end events inside sub-processes are usual here: a warning, not an error.
const WARN = ['label-required'];

const rules = {};
for (const [name, level] of Object.entries(recommended.rules)) {
  rules[`bpmnlint/${name}`] = OFF.includes(name) ? 'off' : WARN.includes(name) ? 'warn' : level;
}

// esbuild resolves these statically: one import per rule the config can name.
const factories = {
  'ad-hoc-sub-process': require('bpmnlint/rules/ad-hoc-sub-process'),
  'conditional-flows': require('bpmnlint/rules/conditional-flows'),
  'end-event-required': require('bpmnlint/rules/end-event-required'),
  'event-based-gateway': require('bpmnlint/rules/event-based-gateway'),
  'event-sub-process-typed-start-event': require('bpmnlint/rules/event-sub-process-typed-start-event'),
  'fake-join': require('bpmnlint/rules/fake-join'),
  'global': require('bpmnlint/rules/global'),
  'label-required': require('bpmnlint/rules/label-required'),
  'link-event': require('bpmnlint/rules/link-event'),
  'no-bpmndi': require('bpmnlint/rules/no-bpmndi'),
  'no-complex-gateway': require('bpmnlint/rules/no-complex-gateway'),
  'no-disconnected': require('bpmnlint/rules/no-disconnected'),
  'no-duplicate-sequence-flows': require('bpmnlint/rules/no-duplicate-sequence-flows'),
  'no-gateway-join-fork': require('bpmnlint/rules/no-gateway-join-fork'),
  'no-implicit-split': require('bpmnlint/rules/no-implicit-split'),
  'no-implicit-end': require('bpmnlint/rules/no-implicit-end'),
  'no-implicit-start': require('bpmnlint/rules/no-implicit-start'),
  'no-inclusive-gateway': require('bpmnlint/rules/no-inclusive-gateway'),
  'no-overlapping-elements': require('bpmnlint/rules/no-overlapping-elements'),
  'single-blank-start-event': require('bpmnlint/rules/single-blank-start-event'),
  'single-event-definition': require('bpmnlint/rules/single-event-definition'),
  'start-event-required': require('bpmnlint/rules/start-event-required'),
  'sub-process-blank-start-event': require('bpmnlint/rules/sub-process-blank-start-event'),
  'superfluous-gateway': require('bpmnlint/rules/superfluous-gateway'),
  'superfluous-label': require('bpmnlint/rules/superfluous-label'),
  'superfluous-termination': require('bpmnlint/rules/superfluous-termination'),
};

const resolver = {
  resolveRule(pkg, name) {
    const factory = pkg === 'bpmnlint' && factories[name];
    if (!factory) throw new Error(`unknown lint rule ${pkg}/${name}`);
    return factory.default || factory;
  },
  resolveConfig(pkg, name) {
    throw new Error(`no lint config ${pkg}/${name} in this bundle`);
  },
};

window.BaoxueLint = { module: lintModule.default || lintModule, config: { config: { rules }, resolver } };
