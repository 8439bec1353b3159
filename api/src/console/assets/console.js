// The console's one script, served from the binary (the CSP allows no other). Pages are
// rendered on the server; this file adds what a page cannot do alone:
//  - forms marked data-api send JSON to the HTTP API with the session cookie and show the
//    API's problem+json errors next to the field they name (data-result shows fields of
//    the answer; data-keep keeps what was typed; data-include sends fields from elsewhere);
//  - sections marked data-live refresh themselves from the server;
//  - the workflow designer edits a draft of the definition and publishes it.
// Every value from the server or the user is put into the page as text, never as markup.
"use strict";

// ---- Forms that call the API ----------------------------------------------------------

function setPath(target, path, value) {
  const keys = path.split(".");
  let at = target;
  keys.slice(0, -1).forEach((k) => {
    if (typeof at[k] !== "object" || at[k] === null) at[k] = {};
    at = at[k];
  });
  at[keys[keys.length - 1]] = value;
}

// Reads a form into a JSON body. Throws {field, message} for a value that cannot be read.
// Elements elsewhere on the page that a form sends too: `data-include` is a selector
// (the route preview sends the routes being edited in the form above it).
function formBody(form) {
  const body = {};
  const lists = {};
  const included = form.dataset.include ? [...document.querySelectorAll(form.dataset.include)] : [];
  for (const el of [...form.elements, ...included]) {
    if (!el.name || el.disabled || el.type === "submit") continue;
    const kind = el.dataset.kind || "text";
    if (kind === "checklist") {
      lists[el.name] = lists[el.name] || [];
      if (el.checked) lists[el.name].push(el.value);
      continue;
    }
    let value = el.value;
    if (kind === "checkbox") value = el.checked;
    else if (value === "" && el.dataset.empty === "omit") continue;
    else if (value === "" && el.dataset.empty === "null") value = null;
    else if (kind === "number") value = Number(value);
    else if (kind === "list") value = value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
    else if (kind === "json") {
      try {
        value = JSON.parse(value);
      } catch (e) {
        throw { field: el.name, message: "not valid JSON: " + e.message };
      }
      const shape = el.dataset.shapeFrom && form.querySelector(el.dataset.shapeFrom);
      if (shape) checkShape(el.name, value, shape.selectedOptions[0]);
    }
    if (el.dataset.body === "whole") return value;
    setPath(body, el.name, value);
  }
  Object.entries(lists).forEach(([k, v]) => setPath(body, k, v));
  return body;
}

// Checks a credential object against the provider's shape before it is sent (the server
// checks again).
function checkShape(field, value, option) {
  if (!option) return;
  const required = (option.dataset.required || "").split(",").filter(Boolean);
  const optional = (option.dataset.optional || "").split(",").filter(Boolean);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw { field, message: "give the credentials as a JSON object" };
  }
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) {
      throw { field, message: `unknown field "${key}" for ${option.value} (expected: ${required.concat(optional).join(", ")})` };
    }
  }
  for (const key of required) {
    if (typeof value[key] !== "string" || value[key].trim() === "") {
      throw { field, message: `"${key}" is required for ${option.value}` };
    }
  }
}

function clearErrors(scope) {
  scope.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; p.hidden = true; });
  scope.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  scope.querySelectorAll(".form-error").forEach((p) => { p.textContent = ""; p.hidden = true; });
}

// Puts `message` next to the input named `field` (or the closest enclosing name).
function showFieldError(form, field, message) {
  let name = field.replace(/^\$\./, "");
  while (name) {
    const slot = form.querySelector(`.field-error[data-for="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
      const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
      return true;
    }
    const cut = Math.max(name.lastIndexOf("."), name.lastIndexOf("["));
    name = cut > 0 ? name.slice(0, cut) : "";
  }
  // A form that sends one JSON document shows every problem in it next to that field.
  const whole = form.querySelector('[data-body="whole"]');
  const slot = whole && form.querySelector(`.field-error[data-for="${CSS.escape(whole.name)}"]`);
  if (slot) {
    slot.textContent = (slot.hidden ? "" : slot.textContent + "\n") + `${field}: ${message}`;
    slot.hidden = false;
    whole.setAttribute("aria-invalid", "true");
    return true;
  }
  return false;
}

function showFormError(form, message) {
  const slot = form.querySelector(".form-error");
  if (slot) {
    slot.textContent = message;
    slot.hidden = false;
  }
}

async function callApi(method, url, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = { detail: text };
  }
  return { ok: response.ok, status: response.status, data };
}

// Shows a failed call: each field error next to its field, the detail above the button.
function showProblem(form, problem) {
  const errors = (problem && problem.errors) || [];
  let placed = false;
  errors.forEach((e) => { placed = showFieldError(form, e.path, e.message) || placed; });
  if (!placed && problem && problem.field) placed = showFieldError(form, problem.field, problem.detail);
  showFormError(form, (problem && (problem.detail || problem.title)) || "The request failed.");
}

function fillTemplate(template, data) {
  return template.replace(/\{([\w.]+)\}/g, (_, path) => {
    const value = path.split(".").reduce((at, key) => (at == null ? at : at[key]), data);
    return value != null ? encodeIfPath(template, String(value)) : "";
  });
}

// Values substituted into an address are encoded; into text, kept as they are.
function encodeIfPath(template, value) {
  return template.startsWith("/") ? encodeURIComponent(value) : value;
}

// Replaces the element `selector` with its current rendering from the server.
async function refreshPart(selector) {
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = doc.querySelector(selector);
    const old = document.querySelector(selector);
    if (fresh && old) old.replaceWith(document.importNode(fresh, true));
  } catch (e) {
    // The result is shown anyway; the rest of the page updates on the next visit.
  }
}

async function submitApiForm(form, event) {
  event.preventDefault();
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  clearErrors(form);
  let body;
  try {
    body = form.dataset.method === "GET" || form.dataset.method === "DELETE" ? undefined : formBody(form);
  } catch (problem) {
    showFieldError(form, problem.field, problem.message);
    showFormError(form, "Nothing was sent: fix the field marked above.");
    return;
  }
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  const status = form.querySelector("[role=status]");
  if (status) status.textContent = "Working…";
  let result;
  try {
    result = await callApi(form.dataset.method || "POST", form.dataset.api, body);
  } catch (e) {
    result = { ok: false, data: { detail: "The server could not be reached." } };
  }
  buttons.forEach((b) => { b.disabled = false; });
  if (status) status.textContent = "";
  if (!result.ok) {
    showProblem(form, result.data);
    return;
  }
  const data = result.data || {};
  if (form.dataset.refresh) await refreshPart(form.dataset.refresh);
  if (form.dataset.resultText && status) status.textContent = fillTemplate(form.dataset.resultText, data);
  if (form.dataset.result) {
    const box = document.querySelector(form.dataset.result);
    box.querySelectorAll("[data-field]").forEach((el) => { el.textContent = data[el.dataset.field] ?? ""; });
    box.hidden = false;
    if (!form.dataset.keep) form.reset();
    return;
  }
  const then = form.dataset.then;
  if (then === "reload") window.location.reload();
  else if (then) window.location.assign(fillTemplate(then, data));
}

// A select whose options carry data-fields (a JSON list of {name, kind}) fills the element
// named by data-fields-into with one labelled input per field of the chosen option: the
// New job form asks for the context fields the chosen workflow reads.
function fillFields(select) {
  const box = document.querySelector(select.dataset.fieldsInto);
  if (!box) return;
  box.querySelectorAll(".generated").forEach((n) => n.remove());
  const option = select.selectedOptions[0];
  let fields = [];
  try {
    fields = JSON.parse((option && option.dataset.fields) || "[]");
  } catch (e) {
    fields = [];
  }
  const prefix = select.dataset.fieldsPrefix || "";
  if (option && option.dataset.help) {
    box.append(el("p", { class: "help generated", text: option.dataset.help }));
  } else if (fields.length === 0) {
    box.append(el("p", { class: "muted generated", text: "This workflow reads no context field." }));
  }
  fields.forEach((f) => {
    const id = `${select.id}-${f.name}`;
    const input = el("input", { id, name: prefix + f.name, "data-empty": "omit", class: "generated" });
    if (f.kind === "number") {
      input.type = "number";
      input.step = "any";
      input.dataset.kind = "number";
    } else if (f.kind === "secret") {
      input.type = "password";
      input.autocomplete = "off";
    } else if (f.kind === "url") {
      input.type = "url";
    }
    // Not `required` in the page: the JSON box may be used instead; the server checks.
    const label = f.name.replace(/_/g, " ") + (f.required === false ? " (optional)" : "");
    box.append(el("label", { for: id, class: "generated", text: label }), input,
      el("p", { class: "field-error generated", "data-for": prefix + f.name, hidden: true }));
  });
}

document.querySelectorAll("select[data-fields-into]").forEach((select) => {
  fillFields(select);
  ["change", "input"].forEach((kind) => select.addEventListener(kind, () => fillFields(select)));
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.api) submitApiForm(form, event);
});

// ---- Live sections --------------------------------------------------------------------

function live(section) {
  let last = null;
  const refresh = async () => {
    try {
      const response = await fetch(section.dataset.live, { credentials: "same-origin" });
      if (response.ok) {
        const html = await response.text();
        // The fragment is the server's own escaped rendering of this very section.
        if (html !== last) {
          last = html;
          section.innerHTML = html;
        }
      }
    } catch (e) {
      // Offline for a moment: try again on the next tick.
    }
  };
  window.setInterval(refresh, Number(section.dataset.every || 1000));
}

document.querySelectorAll("[data-live]").forEach(live);

// ---- The workflow designer ------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (v === false || v == null) return;
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  });
  children.flat().forEach((c) => node.append(c));
  return node;
}

function designer(root) {
  const published = JSON.parse(root.dataset.definition);
  const connections = JSON.parse(root.dataset.connections);
  const key = `switchyard.draft.${root.dataset.workflow}.${root.dataset.version}`;
  let draft = JSON.parse(sessionStorage.getItem(key) || "null") || structuredClone(published);
  const panel = document.getElementById("panel");
  const notice = document.getElementById("draft-notice");
  const errorsBox = document.getElementById("publish-errors");
  let open = null;

  // The transitions list counts the draft's actions, not the published version's.
  const counts = () => {
    document.querySelectorAll("[data-count-for]").forEach((span) => {
      const t = draft.transitions.find((x) => x.name === span.dataset.countFor);
      if (t) span.textContent = String((t.actions || []).length);
    });
  };
  const save = () => {
    sessionStorage.setItem(key, JSON.stringify(draft));
    notice.hidden = JSON.stringify(draft) === JSON.stringify(published);
    counts();
  };
  counts();

  const field = (id, label, input, help) =>
    el("div", { class: "field" }, el("label", { for: id, text: label }), input,
      help ? el("p", { class: "help", text: help }) : [],
      el("p", { class: "field-error", "data-for": id, hidden: true }));

  const actionEditor = (t, index) => {
    const a = t.actions[index];
    const p = (a.payload_template = a.payload_template || {});
    const id = (name) => `a${index}-${name}`;
    const path = (rest) => `transitions[${draft.transitions.indexOf(t)}].actions[${index}]${rest}`;
    // An edited field's old error no longer applies: clear it, then keep the draft.
    const edited = (input) => {
      const slot = panel.querySelector(`.field-error[data-for="${input.id}"]`);
      if (slot) { slot.hidden = true; slot.textContent = ""; }
      input.removeAttribute("aria-invalid");
      lastErrors = lastErrors.filter((e) => e.path.replace(/^\$\./, "") !== input.dataset.path);
    };
    const bind = (input, set) => {
      input.addEventListener("input", () => { edited(input); set(input); save(); });
      input.addEventListener("change", () => { set(input); save(); });
      return input;
    };
    const name = bind(el("input", { id: id("name"), value: a.name || "", "data-path": path(".name") }), (i) => { a.name = i.value; });
    const conn = bind(el("select", { id: id("connection"), "data-path": path(".payload_template.connection_id") },
      el("option", { value: "", text: "Choose a connection" }),
      connections.map((c) => el("option", { value: c.id, text: `${c.name} (${c.provider})`, selected: c.id === p.connection_id }))),
      (i) => { p.connection_id = i.value; });
    const method = bind(el("select", { id: id("method"), "data-path": path(".payload_template.method") },
      ["POST", "PUT", "PATCH", "GET", "DELETE"].map((m) => el("option", { value: m, text: m, selected: (p.method || "POST") === m }))),
      (i) => { p.method = i.value; });
    const pathInput = bind(el("input", { id: id("path"), value: p.path || "", "data-path": path(".payload_template.path") }),
      (i) => { if (i.value) p.path = i.value; else delete p.path; });
    const body = bind(el("textarea", { id: id("body"), rows: 6, class: "code", "data-path": path(".payload_template.body") }),
      (i) => {
        try {
          p.body = i.value.trim() ? JSON.parse(i.value) : undefined;
          i.removeAttribute("aria-invalid");
        } catch (e) {
          i.setAttribute("aria-invalid", "true");
        }
      });
    body.value = p.body === undefined ? "" : JSON.stringify(p.body, null, 2);
    const retry = a.retry || {};
    const attempts = bind(el("input", { id: id("attempts"), type: "number", min: 1, max: 20, value: retry.max_attempts ?? "", "data-path": path(".retry.max_attempts") }),
      (i) => { a.retry = a.retry || {}; if (i.value) a.retry.max_attempts = Number(i.value); else delete a.retry.max_attempts; });
    const schedule = bind(el("input", { id: id("schedule"), value: (retry.schedule || []).join(", "), "data-path": path(".retry.schedule") }),
      (i) => { a.retry = a.retry || {}; const s = i.value.split(",").map((x) => x.trim()).filter(Boolean); if (s.length) a.retry.schedule = s; else delete a.retry.schedule; });
    const cont = bind(el("input", { id: id("continue"), type: "checkbox", checked: !!a.continue_on_failure }), (i) => { a.continue_on_failure = i.checked; });
    const move = (delta) => () => {
      const to = index + delta;
      if (to < 0 || to >= t.actions.length) return;
      [t.actions[index], t.actions[to]] = [t.actions[to], t.actions[index]];
      save();
      render(t.name);
    };
    const preview = el("pre", { class: "preview", hidden: true, "aria-live": "polite" });
    const previewButton = el("button", { type: "button", class: "secondary", text: "Preview payload" });
    previewButton.addEventListener("click", async () => {
      let context;
      try {
        context = JSON.parse(document.getElementById("sample-context").value);
      } catch (e) {
        preview.textContent = "The sample context is not valid JSON: " + e.message;
        preview.hidden = false;
        return;
      }
      context.action = { id: "00000000-0000-0000-0000-000000000000", name: a.name, attempt: 1 };
      context.transition = Object.assign({ data: {} }, context.transition, { name: t.name, to: t.to });
      const result = await callApi("POST", "/api/v1/workflows/preview", { path: p.path, body: p.body, context });
      preview.textContent = result.ok
        ? JSON.stringify(result.data, null, 2)
        : `${(result.data && result.data.field) || ""}: ${(result.data && result.data.detail) || "the preview failed"}`;
      preview.hidden = false;
    });
    const up = el("button", { type: "button", class: "secondary", text: "Move up", disabled: index === 0 });
    const down = el("button", { type: "button", class: "secondary", text: "Move down", disabled: index === t.actions.length - 1 });
    const remove = el("button", { type: "button", class: "danger", text: "Remove" });
    up.addEventListener("click", move(-1));
    down.addEventListener("click", move(1));
    remove.addEventListener("click", () => { t.actions.splice(index, 1); save(); render(t.name); });
    return el("fieldset", { class: "action" },
      el("legend", { text: `Action ${index + 1}: WEBHOOK` }),
      field(id("name"), "Action name", name),
      field(id("connection"), "Connection", conn),
      field(id("method"), "Method", method),
      field(id("path"), "Path", pathInput, "Appended to the connection's URL; a template."),
      field(id("body"), "Body template", body, "JSON; every string is a handlebars template."),
      field(id("attempts"), "Max attempts", attempts),
      field(id("schedule"), "Retry schedule", schedule, "Delays before each attempt, e.g. 0s, 30s, 5m."),
      el("div", { class: "check" }, cont, el("label", { for: id("continue"), text: "Continue on failure" })),
      el("div", { class: "row" }, up, down, remove, previewButton),
      preview);
  };

  const render = (name) => {
    const t = draft.transitions.find((x) => x.name === name);
    if (!t) return;
    open = name;
    t.actions = t.actions || [];
    const add = el("button", { type: "button", text: "Add WEBHOOK action" });
    add.addEventListener("click", () => {
      t.actions.push({ name: `action_${t.actions.length + 1}`, action_type: "WEBHOOK", payload_template: { connection_id: (connections[0] || {}).id || "", method: "POST", body: { job: "{{job.id}}" } } });
      save();
      render(name);
      document.getElementById(`a${t.actions.length - 1}-name`).focus();
    });
    const close = el("button", { type: "button", class: "secondary", text: "Close" });
    close.addEventListener("click", () => { panel.hidden = true; open = null; });
    panel.replaceChildren(...[
      el("h2", { text: `Transition ${t.name}`, tabindex: -1 }),
      el("p", { text: `From ${t.from.join(", ")} to ${t.to}` }),
      el("h3", { text: "Guard" }),
      el("pre", { class: "code", text: t.guard ? JSON.stringify(t.guard, null, 2) : "none (always allowed)" }),
      el("h3", { text: "Actions, in order" }),
      t.actions.length ? [] : el("p", { class: "muted", text: "No actions yet." }),
      t.actions.map((_, i) => actionEditor(t, i)),
      el("div", { class: "row" }, add, close)].flat());
    panel.hidden = false;
    showErrors(lastErrors);
  };

  let lastErrors = [];
  const showErrors = (errors) => {
    lastErrors = errors;
    panel.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
    errors.forEach((e) => {
      const input = panel.querySelector(`[data-path="${CSS.escape(e.path.replace(/^\$\./, ""))}"]`);
      if (input) {
        const slot = panel.querySelector(`.field-error[data-for="${input.id}"]`);
        slot.textContent = e.message;
        slot.hidden = false;
        input.setAttribute("aria-invalid", "true");
      }
    });
  };

  document.querySelectorAll("[data-transition]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      render(link.dataset.transition);
      panel.querySelector("h2").focus();
    });
  });

  document.getElementById("discard").addEventListener("click", () => {
    sessionStorage.removeItem(key);
    draft = structuredClone(published);
    save();
    if (open) render(open);
  });

  document.getElementById("publish").addEventListener("click", async () => {
    errorsBox.replaceChildren();
    const result = await callApi("POST", "/api/v1/workflows", draft);
    if (result.ok) {
      sessionStorage.removeItem(key);
      const at = `/admin/workflows/${encodeURIComponent(result.data.name)}?published=${result.data.version}`;
      const warnings = result.data.warnings || [];
      if (warnings.length === 0) {
        window.location.assign(at);
        return;
      }
      // Published, but likely to fail: say where, next to the fields, before moving on.
      errorsBox.append(el("p", { class: "warning", role: "status",
        text: `Published as version ${result.data.version}, with ${warnings.length} warning(s):` }));
      errorsBox.append(el("ul", {}, warnings.map((w) => el("li", { text: `${w.path}: ${w.message}` }))));
      errorsBox.append(el("p", {}, el("a", { href: at, text: `Open version ${result.data.version}` })));
      const first = warnings[0].path.match(/^transitions\[(\d+)\]/);
      const t = first && draft.transitions[Number(first[1])];
      if (t) render(t.name);
      showErrors(warnings.map((w) => ({ path: w.path, message: `Warning: ${w.message}` })));
      return;
    }
    const errors = (result.data && result.data.errors) || [];
    errorsBox.append(el("p", { class: "error", role: "alert", text: (result.data && result.data.detail) || "Publishing failed." }));
    errorsBox.append(el("ul", {}, errors.map((e) => el("li", { text: `${e.path}: ${e.message}` }))));
    showErrors(errors);
  });

  save();
  const wanted = window.location.hash.match(/^#transition-(.+)$/);
  if (wanted) render(decodeURIComponent(wanted[1]));
}

const designerRoot = document.getElementById("designer");
if (designerRoot) designer(designerRoot);
