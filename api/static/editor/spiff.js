// Reading and writing SpiffWorkflow's extensions (spiffworkflow.json) on a diagram element.
// Every write is a bpmn-js command (modeling.updateProperties / updateModdleProperties), so it
// goes on the undo stack like a move or a rename.

export class Spiff {
  constructor(modeler) {
    this.modeling = modeler.get("modeling");
    this.moddle = modeler.get("moddle");
  }

  /** The extension elements of `target` (the element's business object, or an event definition). */
  values(target) {
    return target.extensionElements?.values || [];
  }

  find(target, type) {
    return this.values(target).find((v) => v.$type === type);
  }

  /** The body text of a one-text extension (spiffworkflow:instructionsForEndUser, postScript…). */
  text(target, type) {
    return this.find(target, type)?.value || "";
  }

  setText(element, target, type, value) {
    const existing = this.find(target, type);
    if (existing && value) this.modeling.updateModdleProperties(element, existing, { value });
    else if (existing) this.remove(element, target, existing);
    else if (value) this.add(element, target, this.moddle.create(type, { value }));
  }

  /** spiffworkflow:properties/property[@name] of the element's business object. */
  property(bo, name) {
    const props = this.find(bo, "spiffworkflow:Properties");
    return props?.properties?.find((p) => p.name === name)?.value ?? "";
  }

  setProperty(element, name, value) {
    const bo = element.businessObject;
    let props = this.find(bo, "spiffworkflow:Properties");
    const item = props?.properties?.find((p) => p.name === name);
    if (item && value) return this.modeling.updateModdleProperties(element, item, { value });
    if (item) {
      return this.modeling.updateModdleProperties(element, props, { properties: props.properties.filter((p) => p !== item) });
    }
    if (!value) return undefined;
    const created = this.moddle.create("spiffworkflow:Property", { name, value });
    if (!props) {
      props = this.moddle.create("spiffworkflow:Properties", { properties: [created] });
      return this.add(element, bo, props);
    }
    return this.modeling.updateModdleProperties(element, props, { properties: [...props.properties, created] });
  }

  add(element, target, value) {
    let ext = target.extensionElements;
    if (!ext) {
      ext = this.moddle.create("bpmn:ExtensionElements", { values: [] });
      this.modeling.updateModdleProperties(element, target, { extensionElements: ext });
    }
    this.modeling.updateModdleProperties(element, ext, { values: [...ext.values, value] });
  }

  remove(element, target, value) {
    const ext = target.extensionElements;
    this.modeling.updateModdleProperties(element, ext, { values: ext.values.filter((v) => v !== value) });
  }

  /** The body of a bpmn:FormalExpression property (conditionExpression, timeDuration…). */
  expression(target, key) {
    return target.get(key)?.body || "";
  }

  setExpression(element, target, key, body) {
    const value = body ? this.moddle.create("bpmn:FormalExpression", { body }) : undefined;
    this.modeling.updateModdleProperties(element, target, { [key]: value });
  }
}
