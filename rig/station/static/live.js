// The live page: the run going on (or the last), pushed by the station's event stream.
"use strict";

const $ = (id) => document.getElementById(id);
const trace = new Trace($("charts"));
const EVENTS_SHOWN = 200;

const state = {
  operator: false, // this tab holds the operator's token
  sim: false,
  run: null, // the run's header
  step: null,
  measurements: {}, // name -> {limit_pa_m3_s, channel}
  prompt: null,
  finished: null,
  active: false,
  seq: 0,
  source: null,
};

// --- the station and its procedures -------------------------------------------------------------

async function loadStation() {
  const about = await api("GET", "/api/station");
  state.operator = about.operator_rights;
  state.sim = about.sim;
  $("bench").textContent = about.bench + (about.sim ? " (simulated)" : "");
  $("rights").textContent = state.operator ? "operator" : "read-only";
  $("rights").classList.toggle("operator", state.operator);
  $("runs-link").href = "/runs";
  const select = $("procedure");
  select.replaceChildren();
  for (const p of about.procedures) {
    const option = el("option", { value: p.path }, `${p.name} (${p.path})`);
    option.title = p.description;
    select.appendChild(option);
  }
  $("operator").value = localStorage.getItem("leakrig-operator") || about.operator;
  // A station on a real bench may still simulate a run (planning, a dry run); a simulated one only simulates.
  $("simulate-label").hidden = about.sim;
  $("control").hidden = !state.operator;
}

async function startRun() {
  const message = $("control-message");
  message.textContent = "starting…";
  const body = { procedure: $("procedure").value };
  const seed = $("seed").value.trim();
  if (seed !== "") body.seed = Number(seed);
  const simulate = state.sim || $("simulate").checked;
  if (!state.sim) body.sim = simulate;
  const speed = $("speed").value.trim();
  if (speed !== "" && simulate) body.speed = Number(speed);
  for (const field of ["part", "serial"]) {
    const value = $(field).value.trim();
    if (value) body[field] = value;
  }
  const operator = $("operator").value.trim();
  if (operator) {
    body.operator = operator;
    localStorage.setItem("leakrig-operator", operator);
  }
  $("start").disabled = true;
  try {
    const started = await api("POST", "/api/runs", body);
    message.textContent = `started run ${started.run_id}`;
  } catch (error) {
    message.textContent = error.message;
    $("start").disabled = state.active;
  }
}

async function stopRun() {
  if (!state.run || !state.run.run_id) return;
  try {
    const stopped = await api("POST", `/api/runs/${encodeURIComponent(state.run.run_id)}/stop`);
    $("control-message").textContent = stopped.immediate
      ? "stopping at once (cleanup skipped, safe state still applied)"
      : "stopping: cleanup, then the safe state (stop again to skip the cleanup)";
  } catch (error) {
    $("control-message").textContent = error.message;
  }
}

async function answerPrompt(answer) {
  if (!state.prompt) return;
  const body = { answer };
  const operator = $("operator").value.trim();
  if (operator) body.operator = operator;
  for (const id of ["prompt-answer", "prompt-decline"]) $(id).disabled = true;
  try {
    await api("POST", `/api/prompts/${state.prompt.id}`, body);
  } catch (error) {
    $("prompt-message").textContent = `${state.prompt.message} — ${error.message}`;
    for (const id of ["prompt-answer", "prompt-decline"]) $(id).disabled = false;
  }
}

// --- rendering ----------------------------------------------------------------------------------

function showRun(run) {
  const changed = !state.run || state.run.run_id !== run.run_id;
  state.run = run;
  state.measurements = run.measurements || {};
  if (changed) {
    trace.reset(run.channels || []);
    $("events").replaceChildren();
    showEstimate(null);
    state.step = null;
    state.finished = null;
    showVerdict($("verdict"), "running");
    $("reason").textContent = "";
    $("links").hidden = true;
  }
  $("run-title").textContent = `${run.procedure}` + (run.run_id ? ` · run ${run.run_id}` : "");
  $("run-about").textContent = [run.description, run.sim ? `simulated, seed ${run.seed ?? "the bench's"}` : "real bench", `started from ${run.started_from}`]
    .filter(Boolean)
    .join(" · ");
  const list = $("steps");
  list.replaceChildren();
  for (const section of ["setup", "main", "cleanup"]) {
    for (const step of (run.steps && run.steps[section]) || []) {
      const item = el("li", { "data-label": step.label, "data-section": section }, `${step.label} (${step.kind})`);
      list.appendChild(item);
    }
  }
  setActive(true);
}

function setActive(active) {
  state.active = active;
  $("start").disabled = active;
  $("stop").disabled = !active;
}

function showStep(step) {
  state.step = step;
  $("step").textContent = `step ${step.index}/${step.total} · ${step.name} (${step.kind})`;
  // Without repeats the listed steps are the executed ones, one for one; with them, the label tells.
  const items = [...$("steps").children];
  const oneForOne = items.length === step.total;
  items.forEach((item, i) => item.classList.toggle("current", oneForOne ? i === step.index - 1 : item.dataset.label === step.name));
  const measuring = step.kind && step.kind.startsWith("measure");
  if (measuring) trace.openWindow(step.started_s);
  else trace.clearOpenWindow();
  updateProgress();
}

function span(step) {
  if (step.nominal_s > 0) return [step.nominal_s, false];
  if (step.max_s > 0) return [step.max_s, true];
  return [null, false];
}

// The time left, as the terminal's live view says it (rig/engine/live_view.py _eta_text).
function etaText(step, elapsed) {
  let known = Math.max(0, step.remaining_after_s || 0);
  let extra = Math.max(0, step.extra_after_s || 0);
  if (step.nominal_s > 0) {
    known += Math.max(0, step.nominal_s - elapsed);
    if (step.max_s > step.nominal_s) extra += Math.max(0, step.max_s - Math.max(step.nominal_s, elapsed));
  } else if (step.max_s > 0) {
    extra += Math.max(0, step.max_s - elapsed);
  }
  let text = `ETA ${duration(known)}`;
  if (extra > 0) text += ` + up to ${duration(extra)}`;
  if (step.waits_unbounded || step.unbounded_after) text += " + unknown (operator prompts)";
  return text;
}

function updateProgress() {
  const step = state.step;
  if (!step) return;
  const now = Math.max(trace.lastTime(), step.started_s);
  const elapsed = Math.max(0, now - step.started_s);
  const [length, bounded] = span(step);
  const bar = $("step-progress");
  if (length) {
    bar.max = length;
    bar.value = Math.min(elapsed, length);
    $("step-times").textContent = `${duration(elapsed)} / ${bounded ? "≤ " : ""}${duration(length)}`;
  } else {
    bar.removeAttribute("value");
    $("step-times").textContent = duration(elapsed);
  }
  $("eta").textContent = state.finished ? "" : etaText(step, elapsed);
}

function showEstimate(estimate) {
  const node = $("leak-rate");
  const interval = $("interval");
  if (!estimate) {
    node.textContent = "—";
    $("leak-detail").textContent = "";
    interval.hidden = true;
    return;
  }
  const s = estimate.sccm;
  const ci = s.ci95;
  node.textContent = `${estimate.name}: ${sig(s.rate, 3)} sccm` + (ci ? ` (95 %: ${sig(ci[0], 3)} … ${sig(ci[1], 3)})` : "");
  node.dataset.against = estimate.against_limit || "";
  const parts = [`${sig(estimate.rate_pa_m3_s, 3)} Pa·m³/s ± ${sig(estimate.stderr_pa_m3_s, 2)} (1 σ, plain fit)`, `n = ${estimate.n}`];
  if (s.limit !== null && s.limit !== undefined) {
    const against = { below: "interval below the limit", above: "interval above the limit", straddles: "interval straddles the limit" }[estimate.against_limit] || "";
    parts.push(`limit ${sig(s.limit, 3)} sccm${against ? ": " + against : ""}`);
  }
  parts.push("the verdict comes from the full uncertainty budget at the end of the window");
  $("leak-detail").textContent = parts.join(" · ");
  node.className = "big" + (estimate.against_limit ? " against-" + estimate.against_limit : "");
  drawInterval(ci, s.rate, s.limit);
}

// The interval and the limit on one scale from zero (or the interval's low end) to above both.
function drawInterval(ci, rate, limit) {
  const interval = $("interval");
  if (!ci) {
    interval.hidden = true;
    return;
  }
  const low = Math.min(0, ci[0]);
  const high = Math.max(ci[1], limit || 0) * 1.15 || 1;
  const at = (v) => `${(100 * (v - low)) / (high - low)}%`;
  interval.hidden = false;
  const band = $("interval-band");
  band.style.left = at(ci[0]);
  band.style.width = `${(100 * (ci[1] - ci[0])) / (high - low)}%`;
  $("interval-rate").style.left = at(rate);
  const mark = $("interval-limit");
  mark.hidden = limit === null || limit === undefined;
  if (!mark.hidden) mark.style.left = at(limit);
}

function addEvent(message) {
  const list = $("events");
  const t = state.run && message.t !== undefined ? duration(message.t) : "";
  const item = el("li", { "data-kind": message.kind, class: "kind-" + message.kind });
  item.appendChild(el("span", { class: "when" }, t));
  item.appendChild(el("span", { class: "kind" }, message.kind));
  item.appendChild(el("span", { class: "message" }, message.message));
  list.prepend(item);
  while (list.children.length > EVENTS_SHOWN) list.lastChild.remove();
  const data = message.data || {};
  if (message.kind === "measurement" && Array.isArray(data.window_s)) trace.closeWindow(data.window_s[0], data.window_s[1]);
}

function showPrompt(prompt) {
  state.prompt = prompt;
  const box = $("prompt");
  if (!prompt) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  $("prompt-message").textContent = prompt.message;
  $("prompt-buttons").hidden = !state.operator;
  $("prompt-readonly").hidden = state.operator;
  for (const id of ["prompt-answer", "prompt-decline"]) $(id).disabled = false;
}

function showFinished(finished) {
  state.finished = finished;
  showVerdict($("verdict"), finished.verdict);
  $("reason").textContent = finished.reason;
  $("eta").textContent = "";
  trace.clearOpenWindow();
  showPrompt(null);
  setActive(false);
  const runId = finished.run_id;
  if (runId) {
    const id = encodeURIComponent(runId);
    $("run-link").href = withToken(`/runs/${id}`);
    $("certificate-link").href = withToken(`/runs/${id}/certificate.html`);
    $("record-link").href = withToken(`/runs/${id}/files/results.json`);
    $("links").hidden = false;
  }
}

// --- the stream ---------------------------------------------------------------------------------

function handle(message) {
  if (message.seq) state.seq = message.seq;
  switch (message.type) {
    case "run":
      showRun(message);
      break;
    case "step":
      if (!state.run || message.run_id === state.run.run_id) showStep(message);
      break;
    case "samples":
      if (state.run && message.run_id === state.run.run_id) {
        trace.append(message.t, message.values);
        updateProgress();
      }
      break;
    case "estimate":
      showEstimate(message);
      break;
    case "event":
      addEvent(message);
      break;
    case "prompt":
      showPrompt(message);
      break;
    case "prompt_closed":
      if (state.prompt && state.prompt.id === message.id) showPrompt(null);
      break;
    case "finished":
      showFinished(message);
      break;
    case "start_failed":
      $("control-message").textContent = message.error;
      setActive(false);
      break;
    case "stop_requested":
      $("control-message").textContent = `stop requested (${message.stops}) from ${message.origin}`;
      break;
    case "resync":
      catchUp();
      break;
  }
}

// A page opened mid-run (or fallen behind): the state and the trace so far from the record, then
// the stream from the message after.
async function catchUp() {
  if (state.source) state.source.close();
  const live = await api("GET", "/api/live");
  if (live.run) {
    state.run = null; // a fresh start for this run
    showRun(live.run);
    if (live.trace) trace.append(live.trace.t, live.trace.values);
    for (const event of live.events || []) addEvent(event);
    if (live.step) showStep(live.step);
    const estimates = Object.values(live.estimates || {});
    if (estimates.length) showEstimate(estimates[estimates.length - 1]);
    showPrompt(live.prompt);
    if (live.finished) showFinished(live.finished);
    setActive(live.active);
  }
  connect(live.seq);
}

function connect(since) {
  const source = new EventSource(withToken(`/api/events?since=${since}`));
  state.source = source;
  source.onopen = () => {
    $("connection").textContent = "live";
    $("connection").classList.remove("dim");
  };
  source.onerror = () => {
    // EventSource reconnects by itself, sending the last message's number (Last-Event-ID).
    $("connection").textContent = "reconnecting…";
    $("connection").classList.add("dim");
  };
  source.onmessage = (e) => {
    try {
      handle(JSON.parse(e.data));
    } catch (error) {
      console.error("station message", error);
    }
  };
}

async function main() {
  $("start").addEventListener("click", startRun);
  $("stop").addEventListener("click", stopRun);
  $("prompt-answer").addEventListener("click", () => answerPrompt("yes"));
  $("prompt-decline").addEventListener("click", () => answerPrompt("no"));
  const axisButton = (log) => ($("axis").textContent = log ? "linear axis" : "log axis");
  trace.onAxis = axisButton;
  $("axis").addEventListener("click", () => {
    trace.setLog(!trace.log);
    axisButton(trace.log);
  });
  trace.start();
  try {
    await loadStation();
    await catchUp();
  } catch (error) {
    $("connection").textContent = error.status === 401 ? "this station needs its token: open the address it printed" : error.message;
  }
}

main();
