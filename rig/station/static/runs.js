// The run list: GET /api/runs once, filtered here; the filters live in the address (bookmarkable).
"use strict";

const FILTERS = ["procedure", "verdict", "status", "from", "to", "q"];
let allRuns = [];

function filterInput(name) {
  return document.getElementById("filter-" + name);
}

function filtersFromAddress() {
  const params = new URLSearchParams(window.location.search);
  const chosen = {};
  for (const name of FILTERS) {
    chosen[name] = params.get(name) || "";
  }
  return chosen;
}

function currentFilters() {
  const chosen = {};
  for (const name of FILTERS) {
    chosen[name] = filterInput(name).value.trim();
  }
  return chosen;
}

function keepInAddress(chosen) {
  const params = new URLSearchParams(window.location.search);
  for (const name of FILTERS) {
    if (chosen[name]) {
      params.set(name, chosen[name]);
    } else {
      params.delete(name);
    }
  }
  const query = params.toString();
  window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
}

function matches(run, chosen) {
  if (chosen.procedure && run.procedure !== chosen.procedure) return false;
  if (chosen.verdict === "none" && run.verdict) return false;
  if (chosen.verdict && chosen.verdict !== "none" && run.verdict !== chosen.verdict) return false;
  if (chosen.status && run.status !== chosen.status) return false;
  // started is ISO 8601 local time (2026-12-06T11:35:11+0000): its first ten characters are the day.
  const day = String(run.started || "").slice(0, 10);
  if (chosen.from && day < chosen.from) return false;
  if (chosen.to && day > chosen.to) return false;
  if (chosen.q) {
    const needle = chosen.q.toLowerCase();
    const hay = (run.run_id + " " + (run.reason || "")).toLowerCase();
    if (hay.indexOf(needle) < 0) return false;
  }
  return true;
}

function row(run) {
  const tr = element("tr");
  tr.dataset.testid = "run-row";
  tr.setAttribute("data-run-id", run.run_id);
  const idCell = element("td");
  const link = element("a", run.run_id);
  link.href = runLink(run.run_id);
  idCell.appendChild(link);
  tr.appendChild(idCell);
  tr.appendChild(element("td", run.procedure));
  tr.appendChild(element("td", run.bench));
  tr.appendChild(element("td", run.started));
  tr.appendChild(element("td", run.ended || "—"));
  tr.appendChild(element("td", run.status));
  tr.appendChild(element("td", run.verdict || "—", verdictClass(run.verdict)));
  tr.appendChild(element("td", run.reason || ""));
  return tr;
}

function render() {
  const chosen = currentFilters();
  keepInAddress(chosen);
  const body = document.getElementById("runs-body");
  const shown = allRuns.filter((run) => matches(run, chosen));
  body.replaceChildren(...shown.map(row));
  const status = document.getElementById("runs-status");
  status.className = "muted";
  status.textContent = allRuns.length === 0 ? "no runs yet" : shown.length + " of " + allRuns.length + " runs";
}

function fillProcedures(chosen) {
  const select = filterInput("procedure");
  const names = Array.from(new Set(allRuns.map((run) => run.procedure))).sort();
  if (chosen.procedure && names.indexOf(chosen.procedure) < 0) {
    names.push(chosen.procedure); // a bookmarked filter stays as chosen, matching nothing
  }
  for (const name of names) {
    const option = element("option", name);
    option.value = name;
    select.appendChild(option);
  }
}

async function start() {
  document.getElementById("live-link").href = withToken("/");
  const chosen = filtersFromAddress();
  try {
    allRuns = await fetchJson("/api/runs");
  } catch (error) {
    const status = document.getElementById("runs-status");
    status.className = "error";
    status.textContent = "cannot list the runs: " + error.message;
    return;
  }
  fillProcedures(chosen);
  for (const name of FILTERS) {
    filterInput(name).value = chosen[name];
  }
  const form = document.getElementById("filters");
  form.addEventListener("input", render);
  form.addEventListener("change", render);
  // A reset clears the fields after this event: render once they are cleared.
  form.addEventListener("reset", () => window.setTimeout(render, 0));
  form.addEventListener("submit", (event) => event.preventDefault());
  render();
}

start();
