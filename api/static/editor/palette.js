// A palette entry for a user task: nearly every Baoxue step is one (a person in a lane's role does
// it), so it is created in one move instead of a plain task then 更改类型 (replace menu).
// diagram-js's documented extension point: a provider registered with the palette service.

class UserTaskPalette {
  constructor(palette, create, elementFactory, translate) {
    Object.assign(this, { create, elementFactory, translate });
    palette.registerProvider(this);
  }

  getPaletteEntries() {
    const start = (event) => this.create.start(event, this.elementFactory.createShape({ type: "bpmn:UserTask" }));
    return {
      "create.user-task": {
        group: "activity", className: "bpmn-icon-user-task", title: this.translate("Create user task"),
        action: { dragstart: start, click: start },
      },
    };
  }
}
UserTaskPalette.$inject = ["palette", "create", "elementFactory", "translate"];

export const paletteModule = { __init__: ["userTaskPalette"], userTaskPalette: ["type", UserTaskPalette] };
