// What every station page shares: the operator's token (kept in this tab only), requests, formatting.
"use strict";

const TOKEN_KEY = "leakrig-token";

// A page opened as /?token=... keeps the token in this tab's sessionStorage and takes it out of
// the address bar (and so out of the history, bookmarks and screenshots).
function takeToken() {
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    const given = params.get("token");
    if (given) sessionStorage.setItem(TOKEN_KEY, given);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

const token = takeToken();

function authHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  if (token) headers["Authorization"] = "Bearer " + token;
  return headers;
}

// A URL that cannot carry a header (an event stream, an image, a link): the token as a query.
function withToken(url) {
  if (!token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

async function api(method, url, body) {
  const init = { method, headers: authHeaders(body === undefined ? {} : { "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(url, init);
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const why = data && data.error ? data.error : response.status + " " + response.statusText;
    const error = new Error(why);
    error.status = response.status;
    throw error;
  }
  return data;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function sig(x, digits) {
  if (x === null || x === undefined || !isFinite(x)) return "—";
  if (x === 0) return "0";
  const exponent = Math.floor(Math.log10(Math.abs(x)));
  if (exponent >= -3 && exponent < digits) return x.toFixed(Math.max(0, digits - 1 - exponent));
  return x.toExponential(digits - 1);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "?";
  const sign = seconds < 0 ? "-" : "";
  let total = Math.round(Math.abs(seconds));
  const hours = Math.floor(total / 3600);
  total -= hours * 3600;
  const minutes = Math.floor(total / 60);
  const secs = total - minutes * 60;
  const two = (n) => String(n).padStart(2, "0");
  return hours ? `${sign}${hours}:${two(minutes)}:${two(secs)}` : `${sign}${minutes}:${two(secs)}`;
}

function pressureText(pa) {
  if (pa === null || pa === undefined || !isFinite(pa)) return "—";
  const a = Math.abs(pa);
  if (a < 1e3) return sig(pa, 4) + " Pa";
  if (a < 1e6) return sig(pa / 1e3, 5) + " kPa";
  return sig(pa / 1e6, 5) + " MPa";
}

const VERDICT_CLASSES = ["PASS", "FAIL", "INCONCLUSIVE", "ABORTED", "MEASURED"];

function showVerdict(node, verdict) {
  node.textContent = verdict;
  for (const name of VERDICT_CLASSES) node.classList.remove("v-" + name);
  if (VERDICT_CLASSES.includes(verdict)) node.classList.add("v-" + verdict);
}
