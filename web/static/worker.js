// The engine's Web Worker: `wasm_bindgen` (the glue, prepended by web/build.sh) is
// initialised once with the module the page compiled, then every message is one shard
// of a run's replications, or the merge of a run's shards (the page keeps one worker
// per core). The page cancels a run by terminating its workers.
"use strict";

// The charts' text is sized by plotters through the DOM (a span's offset size), and a
// worker has no DOM: lend it the few pieces plotters touches, measuring the text with
// an OffscreenCanvas in the same font.
(function lendTextMeasurement() {
  if (typeof Window !== "undefined") return;
  const canvas = new OffscreenCanvas(1, 1).getContext("2d");
  class MeasuredSpan {
    constructor() { this.textContent = ""; this.style = ""; }
    setAttribute(name, value) { if (name === "style") this.style = value; }
    property(name) {
      const match = new RegExp(`${name}:\\s*([^;]+)`).exec(this.style);
      return match ? match[1].trim() : "";
    }
    measure() {
      canvas.font = `${this.property("font-style")} ${this.property("font-size")} ${this.property("font-family")}`;
      return canvas.measureText(this.textContent || "");
    }
    get offsetWidth() { return Math.round(this.measure().width); }
    get offsetHeight() {
      const m = this.measure();
      const size = parseFloat(this.property("font-size")) || 12;
      const box = m.fontBoundingBoxAscent + m.fontBoundingBoxDescent;
      return Math.round(Number.isFinite(box) && box > 0 ? box : 1.2 * size);
    }
    remove() {}
  }
  self.HTMLElement = MeasuredSpan;
  self.Window = self.constructor;
  self.document = { body: { append() {} }, createElement: () => new MeasuredSpan() };
})();

let ready = null;
self.onmessage = async (event) => {
  const message = event.data;
  if (message.module) {
    ready = wasm_bindgen({ module_or_path: message.module });
    await ready;
    self.postMessage({ initialised: true });
    return;
  }
  await ready;
  const bindgen = wasm_bindgen;
  // Rust objects handed back are freed here, once their strings are out.
  const take = (object, ...fields) => {
    const values = fields.map((f) => object[f]);
    object.free();
    return values;
  };
  try {
    // An invalid scenario throws the CLI's message.
    if (message.shard) {
      const [index, count] = message.shard;
      const part = bindgen.run_shard(message.text, index, count);
      const baselinePart = message.baseline ? bindgen.run_shard(message.baseline, index, count) : null;
      self.postMessage({ id: message.id, shard: index, part, baselinePart });
      return;
    }
    const [report, html] = take(bindgen.merge(message.text, message.parts), "report", "html");
    let comparison = null;
    if (message.baseline) {
      // The pinned baseline and this scenario on common random numbers, as `compare`.
      const compared = bindgen.compare(message.baseline, message.text, message.baselineParts, message.parts);
      const [json, page] = take(compared, "json", "html");
      comparison = { json, html: page };
    }
    self.postMessage({ id: message.id, report, html, comparison, shards: message.parts.length });
  } catch (error) {
    self.postMessage({ id: message.id, error: String(error && error.message ? error.message : error) });
  }
};
