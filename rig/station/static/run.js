// One run's page: its summary, measurements, plot, seal and record files, for the id in the address.
"use strict";

// The files every record may hold, in the order a reader wants them; others follow by name.
const FILE_ORDER = [
  "run.json", "results.json", "samples.csv", "events.jsonl", "procedure.yaml", "bench.yaml",
  "manifest.json", "manifest.sig", "certificate.html", "certificate.pdf",
];

function runIdFromAddress() {
  // /runs/<id>: the id is the one path segment after /runs/.
  const parts = window.location.pathname.split("/").filter((p) => p);
  return parts.length >= 2 ? decodeURIComponent(parts[1]) : "";
}

function showError(text) {
  const p = document.getElementById("run-error");
  p.textContent = text;
  p.hidden = false;
}

function number(x) {
  if (typeof x !== "number" || !isFinite(x)) return "—";
  return x.toPrecision(4).replace(/\.?0+(e|$)/, "$1");
}

function fact(list, name, value) {
  if (value === undefined || value === null || value === "") return;
  list.appendChild(element("dt", name));
  list.appendChild(element("dd", value));
}

function showSummary(run) {
  const verdict = document.getElementById("run-verdict");
  const results = run.results || null;
  const shown = run.verdict || (results && results.verdict) || (run.status === "running" ? "running" : "no verdict");
  verdict.textContent = shown;
  verdict.className = "run-verdict " + verdictClass(run.verdict);
  document.getElementById("run-reason").textContent = run.reason || (results && results.reason) || "";
  const facts = document.getElementById("run-facts");
  facts.replaceChildren();
  const info = run.run || {};
  fact(facts, "procedure", run.procedure);
  fact(facts, "bench", run.bench);
  fact(facts, "status", run.status);
  fact(facts, "started", run.started);
  fact(facts, "ended", run.ended);
  fact(facts, "operator", info.operator);
  fact(facts, "seed", info.seed);
  fact(facts, "samples", run.samples);
  fact(facts, "channels", (run.channels || []).join(", "));
}

function showMeasurements(run) {
  const body = document.getElementById("measurements-body");
  const note = document.getElementById("measurements-note");
  body.replaceChildren();
  const results = run.results;
  if (!results) {
    note.textContent = "no results: the run has not finished, or it crashed";
    return;
  }
  const measurements = results.measurements || {};
  const names = Object.keys(measurements);
  note.textContent = names.length ? "" : "no measurements";
  for (const name of names) {
    const m = measurements[name] || {};
    // U = k·u with k = 2, u the measurement's standard uncertainty (stderr), in its own unit.
    let value = number(m.value);
    if (typeof m.value === "number" && typeof m.stderr === "number") {
      value += " ± " + number(2 * m.stderr);
    }
    const tr = element("tr");
    tr.appendChild(element("td", name));
    tr.appendChild(element("td", value, "number"));
    tr.appendChild(element("td", number(m.limit), "number"));
    tr.appendChild(element("td", m.unit || ""));
    tr.appendChild(element("td", m.outcome || "—", verdictClass(m.outcome)));
    body.appendChild(tr);
    if (m.refusal) {
      const why = element("tr");
      const cell = element("td", name + ": " + m.refusal, "muted");
      cell.colSpan = 5;
      why.appendChild(cell);
      body.appendChild(why);
    }
  }
}

function showFiles(runId, names) {
  const span = document.getElementById("run-files");
  span.replaceChildren();
  const known = FILE_ORDER.filter((n) => names.indexOf(n) >= 0);
  const rest = names.filter((n) => FILE_ORDER.indexOf(n) < 0).sort();
  known.concat(rest).forEach((name, i) => {
    if (i > 0) span.appendChild(document.createTextNode(" · "));
    const a = element("a", name);
    a.href = withToken("/runs/" + encodeURIComponent(runId) + "/files/" + encodeURIComponent(name));
    span.appendChild(a);
  });
}

async function showVerification(runId) {
  const status = document.getElementById("verify-status");
  try {
    const checked = await fetchJson("/api/runs/" + encodeURIComponent(runId) + "/verify");
    status.replaceChildren();
    if (checked.ok) {
      status.className = "verify-ok";
      status.textContent = "verified: " + (checked.signer || checked.lines.slice(1).join(" "));
    } else {
      status.className = "verify-bad";
      checked.lines.forEach((line, i) => {
        if (i > 0) status.appendChild(element("br"));
        status.appendChild(document.createTextNode(line));
      });
    }
  } catch (error) {
    status.className = "verify-bad";
    status.textContent = "cannot check the seal: " + error.message;
  }
}

async function start() {
  const runId = runIdFromAddress();
  document.getElementById("run-id").textContent = runId;
  document.title = "Run " + runId + " · leakrig station";
  document.getElementById("runs-link").href = withToken("/runs");
  document.getElementById("live-link").href = withToken("/");
  const base = "/runs/" + encodeURIComponent(runId);
  document.getElementById("certificate-link").href = withToken(base + "/certificate.html");
  document.getElementById("certificate-pdf-link").href = withToken(base + "/certificate.pdf");
  let run;
  try {
    run = await fetchJson("/api/runs/" + encodeURIComponent(runId));
  } catch (error) {
    document.getElementById("run-verdict").textContent = "—";
    showError(error.message);
    document.getElementById("verify-status").textContent = "";
    return;
  }
  showSummary(run);
  showMeasurements(run);
  const plot = document.getElementById("run-plot");
  plot.src = withToken("/api/runs/" + encodeURIComponent(runId) + "/plot.png");
  plot.addEventListener("error", () => {
    plot.hidden = true;
    showError("the plot cannot be drawn (see /api/runs/" + runId + "/plot.png)");
  });
  showVerification(runId);
  try {
    const files = await fetchJson("/api/runs/" + encodeURIComponent(runId) + "/files");
    showFiles(runId, files);
  } catch (error) {
    document.getElementById("run-files").textContent = "cannot list them: " + error.message;
  }
}

start();
