// Renders the OpenAPI document as a plain reference: operations with their parameters, bodies and answers.
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root) { return; }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }

  function resolve(spec, schema) {
    if (schema && schema.$ref) {
      return spec.components.schemas[schema.$ref.split("/").pop()] || {};
    }
    return schema || {};
  }

  function schemaTable(spec, schema) {
    schema = resolve(spec, schema);
    var table = el("table");
    var head = el("tr");
    ["Field", "Type", "Required", "Description"].forEach(function (h) { head.appendChild(el("th", h)); });
    table.appendChild(head);
    var required = schema.required || [];
    Object.keys(schema.properties || {}).forEach(function (name) {
      var prop = resolve(spec, schema.properties[name]);
      var row = el("tr");
      row.appendChild(el("td", name));
      row.appendChild(el("td", [].concat(prop.type || (prop.$ref ? "object" : "")).join(" | ")));
      row.appendChild(el("td", required.indexOf(name) >= 0 ? "yes" : ""));
      var extra = prop.enum ? " One of: " + prop.enum.join(", ") + "." : "";
      row.appendChild(el("td", (prop.description || "") + extra));
      table.appendChild(row);
    });
    return table;
  }

  function operation(spec, path, method, op) {
    var section = el("section", null, "api-operation");
    section.appendChild(el("h3", method.toUpperCase() + " " + path));
    if (op.summary) { section.appendChild(el("p", op.summary)); }
    if (op.description) { section.appendChild(el("p", op.description)); }
    (op.parameters || []).forEach(function (p) {
      section.appendChild(el("p", "Parameter " + p.name + " (" + p.in + ")" + (p.required ? ", required" : "")));
    });
    var body = op.requestBody && op.requestBody.content["application/json"];
    if (body) {
      section.appendChild(el("h4", "Request body"));
      section.appendChild(schemaTable(spec, body.schema));
    }
    Object.keys(op.responses || {}).forEach(function (status) {
      var answer = op.responses[status];
      section.appendChild(el("h4", status + " " + (answer.description || "")));
      var content = answer.content && answer.content["application/json"];
      if (content && status < "300") { section.appendChild(schemaTable(spec, content.schema)); }
    });
    return section;
  }

  fetch(root.getAttribute("data-spec")).then(function (r) { return r.json(); }).then(function (spec) {
    root.textContent = "";
    root.appendChild(el("p", spec.info.title + " " + spec.info.version));
    Object.keys(spec.paths).sort().forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        if (method !== "parameters") { root.appendChild(operation(spec, path, method, spec.paths[path][method])); }
      });
    });
  }).catch(function () { root.textContent = "The OpenAPI document could not be loaded."; });
}());
