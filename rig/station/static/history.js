// Shared by the run list and the run page: small helpers that only insert record data as text
// (a procedure name or a reason is user data).
"use strict";

// The token, withToken() and api() come from common.js, loaded first.
const VERDICT_STYLE = {
  PASS: "verdict-pass",
  FAIL: "verdict-fail",
  INCONCLUSIVE: "verdict-inconclusive",
  ABORTED: "verdict-aborted",
};

// GET a JSON document; a refusal becomes an Error carrying the server's one line.
function fetchJson(url) {
  return api("GET", url);
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  if (className) {
    node.className = className;
  }
  return node;
}

function verdictClass(verdict) {
  return VERDICT_STYLE[verdict] || "verdict-none";
}

function runLink(runId) {
  return withToken("/runs/" + encodeURIComponent(runId));
}
