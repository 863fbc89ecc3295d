// The live page: the scenario is one JSON document; every control edits one field of
// it, every edit reruns the engine in a Web Worker (a newer edit cancels the running
// one), and the URL fragment always holds the document, so a link reopens the same run.
"use strict";

const TITLE = "rollout-sim live";
const state = {
  doc: null, text: "", workers: [], module: null, busy: false, next: 0, job: null,
  // The pinned baseline's text, and its shards' part lines once computed (they do not
  // change while it stays pinned, and merge in any split).
  baseline: null, baselineParts: null,
  // The last finished run's text and part lines (pinning it keeps them as the baseline's).
  last: null,
};
window.rolloutSim = { runs: 0 };

const $ = (id) => document.getElementById(id);

// --- the URL fragment: `#s=` and the scenario's JSON as base64url (UTF-8) ---------------
function encodeFragment(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  bytes.forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function decodeFragment(hash) {
  const match = /^#s=([A-Za-z0-9_-]*)$/.exec(hash);
  if (!match) return null;
  const base64 = match[1].replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

// --- the engine: the module is compiled once; a pool of workers, one per core --------
// A run's replications are split into one shard per worker (one shard with one worker),
// as `run --shard I/N` splits them; worker 0 merges the shards' part lines into the
// unsplit run's report, byte for byte. `?workers=N` in the page's address sets the pool's size (default: the cores).
function poolSize() {
  const asked = Number(new URLSearchParams(location.search).get("workers"));
  const cores = navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(16, Number.isInteger(asked) && asked > 0 ? asked : cores));
}
function base64Bytes(text) {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
function startWorker() {
  const source = new TextDecoder().decode(base64Bytes(ENGINE_WORKER));
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  worker.onmessage = (event) => received(event.data);
  worker.onerror = (event) => received({ id: state.next, error: event.message || "the engine failed" });
  worker.postMessage({ module: state.module });
  return worker;
}
function startPool() {
  state.workers.forEach((w) => w.terminate());
  state.workers = Array.from({ length: poolSize() }, startWorker);
}
// The shards a run is split into: one per worker, at most one per replication (a text
// that does not parse runs whole, and the engine names what is wrong with it).
function shardCount(text) {
  let replications = 1;
  try { replications = JSON.parse(text).replications; } catch (_) { /* runs whole */ }
  return Number.isInteger(replications) && replications > 1 ? Math.min(replications, state.workers.length) : 1;
}
function compute() {
  if (state.busy) {
    // A newer change cancels the running computation.
    startPool();
  }
  state.busy = true;
  state.next += 1;
  delete window.rolloutSim.report;
  delete window.rolloutSim.reportText;
  delete window.rolloutSim.error;
  delete window.rolloutSim.comparison;
  delete window.rolloutSim.comparisonText;
  document.title = `${scenarioName()} - computing`;
  $("status").textContent = "computing…";
  const count = shardCount(state.text);
  const needBaseline = state.baseline !== null && state.baselineParts === null;
  state.job = {
    id: state.next, text: state.text, baseline: state.baseline, count, needBaseline,
    parts: [], baselineParts: state.baselineParts || [], done: 0, started: performance.now(),
  };
  for (let index = 0; index < count; index += 1) {
    state.workers[index].postMessage({
      id: state.next, text: state.text, baseline: needBaseline ? state.baseline : null, shard: [index, count],
    });
  }
}
function received(message) {
  const job = state.job;
  if (message.initialised || !job || message.id !== job.id) return;
  if (message.shard !== undefined && message.error === undefined) {
    job.parts[message.shard] = message.part;
    if (job.needBaseline) job.baselineParts[message.shard] = message.baselinePart;
    job.done += 1;
    if (job.done === job.count) {
      state.workers[0].postMessage({
        id: job.id, text: job.text, baseline: job.baseline, merge: true,
        parts: job.parts, baselineParts: job.baselineParts,
      });
    }
    return;
  }
  state.job = null;
  if (message.error === undefined) {
    state.last = { text: job.text, parts: job.parts };
    if (job.needBaseline && job.baseline === state.baseline) state.baselineParts = job.baselineParts;
  }
  finished(message, performance.now() - job.started);
}
function finished(message, ms) {
  state.busy = false;
  clearErrors();
  if (message.error !== undefined) {
    window.rolloutSim.error = message.error;
    showError(message.error);
    document.title = `${scenarioName()} - error`;
    $("status").textContent = "the scenario has an error";
    return;
  }
  window.rolloutSim.reportText = message.report;
  window.rolloutSim.report = JSON.parse(message.report);
  window.rolloutSim.milliseconds = ms;
  window.rolloutSim.workers = message.shards;
  window.rolloutSim.runs += 1;
  $("report").srcdoc = message.html;
  $("difference").hidden = !message.comparison;
  if (message.comparison) {
    window.rolloutSim.comparisonText = message.comparison.json;
    window.rolloutSim.comparison = JSON.parse(message.comparison.json);
    $("comparison").srcdoc = message.comparison.html;
  }
  const on = message.shards > 1 ? ` on ${message.shards} workers` : "";
  $("status").textContent = `computed in ${Math.round(ms)} ms${on}`;
  document.title = `${scenarioName()} - ready`;
}

// --- the document and its controls -------------------------------------------------------
function scenarioName() {
  return state.doc && typeof state.doc.name === "string" ? state.doc.name : TITLE;
}
function fieldName(path) {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : (i ? "." : "") + p)).join("");
}
function getAt(doc, path) {
  return path.reduce((v, k) => (v === undefined || v === null ? undefined : v[k]), doc);
}
function setAt(doc, path, value) {
  let node = doc;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null) node[key] = {};
    node = node[key];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
}
// What a control's text means in the document: a number when it reads as one (text
// otherwise, so the engine's own validation says what is wrong), a list, or JSON.
function parseValue(kind, text) {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (kind === "number") return trimmed !== "" && !Number.isNaN(Number(trimmed)) ? Number(trimmed) : trimmed;
  if (kind === "list") return trimmed.split(",").map((s) => s.trim()).filter((s) => s);
  if (kind === "json") { try { return JSON.parse(trimmed); } catch (_) { return trimmed; } }
  return trimmed;
}
function showValue(kind, value) {
  if (value === undefined || value === null) return "";
  if (kind === "list") return value.join(", ");
  if (kind === "json" || typeof value === "object") return JSON.stringify(value);
  return String(value);
}
function controlGroups(doc) {
  const groups = [{
    legend: "Run",
    items: [
      [["start"], "deploy start (RFC 3339)", "text"],
      [["seed"], "seed", "number"],
      [["replications"], "replications", "number"],
      [["population", "instances"], "instances", "number"],
      [["horizon"], "horizon", "text"],
      [["timing", "descriptor_poll"], "descriptor poll period", "text"],
      [["timing", "upm_poll"], "UPM poll period", "text"],
      [["timing", "maintenance_slip"], "maintenance slip", "text"],
      [["timing", "slip_probability"], "slip probability", "number"],
      [["maintenance"], "maintenance windows (JSON)", "json"],
      [["policy", "drop_old_support_after"], "drop old support after", "text"],
      [["policy", "cutoff_at"], "cut-off at", "text"],
    ],
  }];
  for (const name of Object.keys(doc.admins || {})) {
    groups.push({
      legend: `Admins: ${name}`,
      items: [
        [["admins", name, "approve"], "approve (0 to 1)", "number"],
        [["admins", name, "reject"], "reject (0 to 1)", "number"],
        [["admins", name, "delay"], "delay law (JSON)", "json"],
        [["admins", name, "working_hours"], "working hours (JSON)", "json"],
        [["admins", name, "reminders"], "reminders (e.g. 3d, 7d)", "list"],
      ],
    });
  }
  (doc.releases || []).forEach((release, i) => {
    groups.push({
      legend: `Release ${i}${release && release.label ? `: ${release.label}` : ""}`,
      items: [
        [["releases", i, "at"], "deployed at (after start)", "text"],
        [["releases", i, "changes"], "changes", "list"],
      ],
    });
  });
  return groups;
}
function buildControls() {
  const form = $("controls");
  form.replaceChildren();
  for (const group of controlGroups(state.doc)) {
    const fieldset = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = group.legend;
    fieldset.append(legend);
    for (const [path, label, kind] of group.items) {
      const row = document.createElement("label");
      row.className = "control";
      const caption = document.createElement("span");
      caption.textContent = label;
      const input = document.createElement("input");
      input.dataset.field = fieldName(path);
      input.value = showValue(kind, getAt(state.doc, path));
      input.placeholder = "default";
      input.addEventListener("input", () => {
        setAt(state.doc, path, parseValue(kind, input.value));
        documentChanged(false);
      });
      const error = document.createElement("span");
      error.className = "error";
      error.dataset.errorFor = input.dataset.field;
      row.append(caption, input, error);
      fieldset.append(row);
    }
    form.append(fieldset);
  }
}
function clearErrors() {
  document.querySelectorAll(".error").forEach((e) => { e.textContent = ""; });
}
// The CLI's message, beside the control of the field it names (the longest control
// field the message's field starts with), or above the report.
function showError(message) {
  const match = /^[^:]+: ([^\s:]+):/.exec(message);
  const field = match ? match[1] : "";
  let best = null;
  document.querySelectorAll("[data-error-for]").forEach((e) => {
    const f = e.dataset.errorFor;
    if ((field === f || field.startsWith(f + ".") || field.startsWith(f + "[")) &&
        (!best || f.length > best.dataset.errorFor.length)) best = e;
  });
  (best || $("error")).textContent = message;
}

// Every change: the text, the fragment, a new computation (controls are rebuilt only
// when the document's shape may have changed).
function documentChanged(rebuild) {
  state.text = JSON.stringify(state.doc, null, 2) + "\n";
  $("json").value = state.text;
  history.replaceState(null, "", "#s=" + encodeFragment(state.text));
  if (rebuild) buildControls();
  compute();
}
function load(text) {
  try {
    state.doc = JSON.parse(text);
  } catch (error) {
    $("json-error").textContent = `not JSON: ${error.message}`;
    window.rolloutSim.error = `not JSON: ${error.message}`;
    document.title = `${TITLE} - error`;
    return;
  }
  $("json-error").textContent = "";
  documentChanged(true);
}

async function main() {
  const select = $("shipped");
  for (const name of Object.keys(SHIPPED_SCENARIOS)) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    select.append(option);
  }
  select.addEventListener("change", () => {
    if (select.value in SHIPPED_SCENARIOS) load(SHIPPED_SCENARIOS[select.value]);
  });
  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    if (file) load(await file.text());
  });
  $("json").addEventListener("change", () => load($("json").value));
  $("download").addEventListener("click", () => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([state.text], { type: "application/json" }));
    link.download = `${scenarioName()}.json`;
    link.click();
    URL.revokeObjectURL(link.href);
  });
  $("pin").addEventListener("click", () => {
    state.baseline = state.text;
    state.baselineParts = state.last && state.last.text === state.text ? state.last.parts : null;
    $("unpin").hidden = false;
    compute();
  });
  $("unpin").addEventListener("click", () => {
    state.baseline = null;
    state.baselineParts = null;
    $("unpin").hidden = true;
    compute();
  });
  window.addEventListener("hashchange", () => {
    const text = decodeFragment(location.hash);
    if (text !== null && text !== state.text) load(text);
  });
  state.module = await WebAssembly.compile(base64Bytes(ENGINE_WASM));
  startPool();
  const fromLink = decodeFragment(location.hash);
  if (fromLink !== null) {
    const option = document.createElement("option");
    option.value = "";
    option.textContent = "(from the link)";
    select.prepend(option);
    select.value = "";
    load(fromLink);
  } else {
    select.value = DEFAULT_SCENARIO;
    load(SHIPPED_SCENARIOS[DEFAULT_SCENARIO]);
  }
}
main().catch((error) => {
  window.rolloutSim.error = String(error);
  $("error").textContent = String(error);
});
