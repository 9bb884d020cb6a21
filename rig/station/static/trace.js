// The live trace: every channel's samples in uPlot charts, one chart per quantity, fit windows shaded.
"use strict";

// Points kept per channel in the page; beyond, every other point is dropped (the record has all).
const MAX_POINTS = 20000;
const REDRAW_MS = 250;
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

// How each quantity is shown: its chart, its unit, and the conversion from the SI the record keeps.
const plainTick = (v) => sig(v, 4);
const isDecade = (v) => v > 0 && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;
// Pressures in kPa once the axis reaches 10 kPa (a 2 bar fill), in Pa below (a vacuum).
const pressureTick = (v, top) => (Math.abs(top) >= 1e4 ? sig(v / 1e3, 4) + " kPa" : sig(v, 3) + " Pa");
const QUANTITIES = {
  pressure: { chart: "pressure", label: "pressure", unit: "Pa", convert: (v) => v, logOk: true, tick: pressureTick },
  differential_pressure: { chart: "differential", label: "differential pressure", unit: "Pa", convert: (v) => v, tick: plainTick },
  temperature: { chart: "temperature", label: "temperature", unit: "°C", convert: (v) => v - 273.15, tick: plainTick },
  voltage: { chart: "voltage", label: "voltage", unit: "V", convert: (v) => v, tick: plainTick },
  flow: { chart: "flow", label: "flow", unit: "mol/s", convert: (v) => v, tick: plainTick },
};

class Trace {
  constructor(container) {
    this.container = container;
    this.log = false;
    this.axisChosen = false;
    this.onAxis = null; // told when the axis switches by itself
    this.reset([]);
  }

  // A new run: its channels (name, measures), no samples yet.
  reset(channels) {
    this.channels = channels;
    this.t = [];
    this.values = {};
    for (const c of channels) this.values[c.name] = [];
    this.windows = []; // [start_s, end_s or null (open)]
    this.dirty = true;
    this.build();
  }

  lastTime() {
    return this.t.length ? this.t[this.t.length - 1] : -Infinity;
  }

  // Samples in time order; those at or before the last one kept are dropped (a catch-up's overlap).
  append(times, values) {
    const last = this.lastTime();
    for (let i = 0; i < times.length; i++) {
      if (!(times[i] > last) && this.t.length) continue;
      this.t.push(times[i]);
      for (const c of this.channels) {
        const column = values[c.name];
        this.values[c.name].push(column && column[i] !== undefined ? column[i] : null);
      }
    }
    if (this.t.length > MAX_POINTS) this.thin();
    this.dirty = true;
  }

  thin() {
    const keep = (array) => array.filter((_, i) => i % 2 === 0 || i === array.length - 1);
    this.t = keep(this.t);
    for (const name of Object.keys(this.values)) this.values[name] = keep(this.values[name]);
  }

  openWindow(start) {
    this.windows = this.windows.filter((w) => w[1] !== null);
    this.windows.push([start, null]);
    this.dirty = true;
  }

  closeWindow(start, end) {
    this.windows = this.windows.filter((w) => w[1] !== null);
    this.windows.push([start, end]);
    this.dirty = true;
  }

  clearOpenWindow() {
    this.windows = this.windows.filter((w) => w[1] !== null);
    this.dirty = true;
  }

  setLog(log) {
    this.log = log;
    this.axisChosen = true;
    this.build();
  }

  groups() {
    const groups = new Map();
    for (const c of this.channels) {
      const q = QUANTITIES[c.measures] || { chart: c.measures, label: c.measures, unit: "", convert: (v) => v, tick: plainTick };
      if (!groups.has(q.chart)) groups.set(q.chart, { quantity: q, channels: [] });
      groups.get(q.chart).channels.push(c);
    }
    return [...groups.values()];
  }

  build() {
    for (const chart of this.charts || []) chart.plot.destroy();
    this.container.replaceChildren();
    this.charts = [];
    const width = Math.max(320, this.container.clientWidth || 640);
    for (const group of this.groups()) {
      const q = group.quantity;
      const log = this.log && q.logOk;
      const box = el("div", { class: "chart", "data-quantity": q.chart });
      this.container.appendChild(box);
      const trace = this;
      const series = [{ label: "t" }];
      group.channels.forEach((c, i) => {
        series.push({ label: c.name, stroke: COLOURS[i % COLOURS.length], width: 1.5, spanGaps: false, points: { show: false } });
      });
      const opts = {
        title: q.tick === pressureTick ? q.label : `${q.label} (${q.unit})`,
        width,
        height: 240,
        scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
        axes: [
          { label: "time in run", values: (u, ticks) => ticks.map((v) => duration(v)) },
          // On a log axis only the decades are labelled (uPlot ticks every 1..9 of each).
          { size: 90, values: (u, ticks) => ticks.map((v) => (log ? (isDecade(v) ? `${sig(v, 1)} ${q.unit}` : "") : q.tick(v, u.scales.y.max))) },
        ],
        series,
        hooks: { drawClear: [(u) => trace.shade(u)] },
      };
      const plot = new uPlot(opts, [[]].concat(group.channels.map(() => [])), box);
      this.charts.push({ plot, group, log });
    }
    this.dirty = true;
  }

  // The fit windows, drawn under the lines.
  shade(u) {
    const ctx = u.ctx;
    const top = u.bbox.top;
    const height = u.bbox.height;
    ctx.save();
    for (const [start, end] of this.windows) {
      const stop = end === null ? this.lastTime() : end;
      if (!(stop > start)) continue;
      const x0 = u.valToPos(start, "x", true);
      const x1 = u.valToPos(stop, "x", true);
      ctx.fillStyle = end === null ? "rgba(255, 193, 7, 0.18)" : "rgba(31, 119, 180, 0.14)";
      ctx.fillRect(Math.min(x0, x1), top, Math.abs(x1 - x0), height);
    }
    ctx.restore();
  }

  // Pressures spanning more than two decades (a pump-down) are read on a log axis, unless the
  // operator chose the axis with the button.
  spansDecades() {
    let low = Infinity;
    let high = 0;
    for (const c of this.channels) {
      if (c.measures !== "pressure") continue;
      for (const v of this.values[c.name] || []) {
        if (v > 0) {
          if (v < low) low = v;
          if (v > high) high = v;
        }
      }
    }
    return high / low > 100;
  }

  // Redraw if anything changed (at most every REDRAW_MS: a fast simulation sends many batches).
  redraw() {
    if (!this.dirty) return;
    this.dirty = false;
    if (!this.log && !this.axisChosen && this.spansDecades()) {
      this.log = true;
      this.build();
      if (this.onAxis) this.onAxis(this.log);
    }
    for (const chart of this.charts) {
      const q = chart.group.quantity;
      const data = [this.t];
      for (const c of chart.group.channels) {
        const column = this.values[c.name] || [];
        // A log axis cannot show zero or below: those points are gaps there.
        data.push(column.map((v) => (v === null || v === undefined ? null : chart.log && v <= 0 ? null : q.convert(v))));
      }
      chart.plot.setData(data);
    }
    this.container.dataset.points = String(this.t.length);
  }

  start() {
    setInterval(() => this.redraw(), REDRAW_MS);
    window.addEventListener("resize", () => {
      const width = Math.max(320, this.container.clientWidth || 640);
      for (const chart of this.charts) chart.plot.setSize({ width, height: 240 });
    });
  }
}
