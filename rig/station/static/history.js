// Shared by the run list and the run page: the operator's token on every request, and small
// helpers that only ever insert record data as text (a procedure name or a reason is user data).
"use strict";

const TOKEN_KEY = "leakrig-token";
const VERDICT_CLASSES = {
  PASS: "verdict-pass",
  FAIL: "verdict-fail",
  INCONCLUSIVE: "verdict-inconclusive",
  ABORTED: "verdict-aborted",
};

function stationToken() {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch (e) {
    return null; // storage refused (private mode): the station is read without a token
  }
}

// A link or <img> cannot send a header: it carries the token in its query instead.
function withToken(url) {
  const token = stationToken();
  if (!token) {
    return url;
  }
  const sep = url.indexOf("?") >= 0 ? "&" : "?";
  return url + sep + "token=" + encodeURIComponent(token);
}

// GET a JSON document; a refusal becomes an Error carrying the server's one line.
async function fetchJson(url) {
  const headers = { Accept: "application/json" };
  const token = stationToken();
  if (token) {
    headers.Authorization = "Bearer " + token;
  }
  const response = await fetch(url, { headers: headers });
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (!response.ok) {
    const why = body && typeof body.error === "string" ? body.error : response.status + " " + response.statusText;
    const error = new Error(why);
    error.status = response.status;
    throw error;
  }
  return body;
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
  return VERDICT_CLASSES[verdict] || "verdict-none";
}

function runLink(runId) {
  return withToken("/runs/" + encodeURIComponent(runId));
}
