// What a new template starts as, per engine: a small working design with two variables, so
// the preview shows something at once and the variable syntax is there to copy. HTML
// uses Pictify's {{ expression }} placeholders; component documents and FabricJS text
// objects use {{name}}.

const VARIABLES = [
  { name: "bg", type: "color", defaultValue: "#2146b8", description: "background" },
  { name: "title", type: "text", defaultValue: "Hello from Pixhaven" },
];

const HTML = `<html>
  <body style="margin:0">
    <div style="width:100%;height:100vh;background:{{ bg }};display:flex;align-items:center;justify-content:center">
      <h1 style="font:bold 40px sans-serif;color:#ffffff">{{ title }}</h1>
    </div>
  </body>
</html>`;

const DOCUMENT = {
  width: 600,
  height: 315,
  background: "{{bg}}",
  components: [{ type: "text", text: "{{title}}", fontSize: 36, color: "#ffffff", x: 40, y: 40 }],
};

const FABRIC = {
  version: "5.3.0",
  objects: [
    {
      type: "rect",
      left: 0,
      top: 0,
      width: 600,
      height: 315,
      fill: "#2146b8",
      variableBindings: [{ variableName: "bg", property: "fill" }],
    },
    {
      type: "textbox",
      text: "{{title}}",
      left: 40,
      top: 40,
      width: 520,
      fontSize: 36,
      fill: "#ffffff",
    },
  ],
};

// A template as GET /templates/{uid} answers it, for the editor to start from.
export function starterTemplate(engine) {
  const common = {
    name: "",
    engine,
    outputFormat: "image",
    variableDefinitions: VARIABLES.map((v) => ({ ...v })),
  };
  if (engine === "html") return { ...common, html: HTML, width: 600, height: 315 };
  if (engine === "fabric") return { ...common, fabricJSData: FABRIC, width: 600, height: 315 };
  return { ...common, engine: "document", document: DOCUMENT };
}
