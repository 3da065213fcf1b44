// attain report: draws the page from the inline JSON (#attain-data) with Chart.js 3.
// Every text from the data goes into the page as text (textContent), never as markup.
(function () {
  'use strict';

  const D = JSON.parse(document.getElementById('attain-data').textContent);
  const M = D.model;
  const root = document.getElementById('report');
  const FONT = getComputedStyle(document.body).fontFamily;
  // Okabe & Ito's palette: told apart with every common colour-vision deficiency.
  const COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#6f4e9c',
    '#555555'];
  const INK = '#1d2433', TARGET = '#b3261e', GOOD = '#1b7f4b', BAD = '#b3261e';
  const charts = [];

  Chart.defaults.font.family = FONT;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = INK;

  // ---------------------------------------------------------------------------------
  // Small helpers.

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') e.className = v;
        else e.setAttribute(k, v);
      }
    }
    for (const k of kids.flat(Infinity)) {
      if (k === null || k === undefined || k === false) continue;
      e.append(k instanceof Node ? k : String(k));
    }
    return e;
  }

  const finite = (v) => typeof v === 'number' && isFinite(v);

  function decimals(p) {
    const v = Math.min(p, 1 - p) * 100;
    if (v >= 1) return 1;
    if (v >= 0.1) return 2;
    return 3;
  }

  // A probability in percent: 29.1 %, 0.042 %, < 0.001 %.
  function pct(p, d) {
    if (!finite(p)) return '–';
    const v = p * 100;
    if (v === 0) return '0 %';
    if (v === 100) return '100 %';
    if (v < 0.001) return '< 0.001 %';
    if (v > 99.999) return '> 99.999 %';
    return v.toFixed(d === undefined ? decimals(p) : d) + ' %';
  }

  // An end of an interval in percent, without the sign, as precise as its estimate.
  function end(p, d) {
    if (!finite(p)) return '–';
    const v = p * 100;
    if (v === 0 || v === 100) return String(v);
    if (v < Math.pow(10, -d)) return v.toPrecision(1);
    if (100 - v < Math.pow(10, -d)) return (100 - Number((100 - v).toPrecision(1))).toString();
    return v.toFixed(d);
  }

  function interval(lo, hi, p) {
    const d = decimals(finite(p) ? p : (lo + hi) / 2);
    return '[' + end(lo, d) + ', ' + end(hi, d) + ']';
  }

  // 29.1 % [29.0, 29.1]
  function pctIv(x) {
    return pct(x.p) + ' ' + interval(x.lo, x.hi, x.p);
  }

  // A difference of probabilities in percentage points.
  function pts(d) {
    if (!finite(d)) return '–';
    const v = d * 100;
    const a = Math.abs(v);
    const digits = a >= 1 || a === 0 ? 1 : a >= 0.1 ? 2 : 3;
    return (v > 0 ? '+' : v < 0 ? '−' : '±') + a.toFixed(digits);
  }

  function num(v) {
    if (!finite(v)) return '–';
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e7 || a < 1e-3)) return v.toExponential(2);
    return Number(v.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 });
  }

  // A value as written in a model or observed (thresholds, actuals, lever values): up to 8
  // significant digits, so that 1383.47 is not shown as 1,383.
  function exact(v) {
    if (!finite(v)) return '–';
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e9 || a < 1e-4)) return v.toPrecision(6);
    return Number(v.toPrecision(8)).toLocaleString('en-US', { maximumFractionDigits: 8 });
  }

  const plural = (n, one, many) => n + ' ' + (n === 1 ? one : many || one + 's');

  const OPS = { '>=': '≥', '>': '>', '<=': '≤', '<': '<' };

  // "中文 (English)" -> ["中文", "English"]; other labels -> [label, ""].
  function splitLabel(s) {
    const m = /^(.+?) \((.+)\)$/.exec(s || '');
    return m ? [m[1], m[2]] : [s || '', ''];
  }

  function labelCell(label, name) {
    const [zh, en] = splitLabel(label);
    return [el('div', null, zh || name), en ? el('div', { class: 'en' }, en) : null,
      name && name !== zh ? el('div', { class: 'name' }, name) : null];
  }

  // Words of at most `width` characters a line (CJK text counts double).
  function wrap(text, width) {
    const lines = [];
    let line = '';
    const len = (s) => Array.from(s).reduce((n, c) => n + (c.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);
    for (const word of text.split(' ')) {
      if (line && len(line) + 1 + len(word) > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + ' ' + word : word;
      }
    }
    if (line) lines.push(line);
    return lines;
  }

  function chartLabel(label, name, width) {
    const [zh, en] = splitLabel(label || name);
    return [...wrap(zh, width), ...(en ? wrap('(' + en + ')', width) : [])];
  }

  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }

  function nodeOf(name) {
    return M.nodes.find((n) => n.name === name) || { name: name, label: name, unit: '' };
  }

  function targetWords(t) {
    return (OPS[t.op] || t.op) + ' ' + exact(t.threshold) + (t.unit && t.unit !== '1' ? ' ' + t.unit : '') + ' in ' + t.year;
  }

  const scenarioColor = (i) => COLORS[i % COLORS.length];
  const ran = D.scenarios.filter((s) => s.runs > 0 && s.targets.length === M.targets.length);

  // A canvas in a box of the given height, and its chart.
  function chart(parent, height, config, label) {
    const box = el('div', { class: 'chart', style: 'height:' + height + 'px' });
    const canvas = el('canvas', { role: 'img', 'aria-label': label || '' });
    box.append(canvas);
    parent.append(box);
    config.options = config.options || {};
    config.options.animation = false;
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    charts.push(new Chart(canvas, config));
  }

  // Reference lines (a target, a goal, an average) drawn over a chart's data.
  const refLines = {
    id: 'refLines',
    afterDatasetsDraw(c, args, opts) {
      const ctx = c.ctx, area = c.chartArea;
      for (const line of (opts && opts.lines) || []) {
        const scale = c.scales[line.axis];
        if (!scale || !finite(line.value)) continue;
        const px = scale.getPixelForValue(line.value);
        ctx.save();
        ctx.strokeStyle = line.color || INK;
        ctx.lineWidth = 1.5;
        ctx.setLineDash(line.dash || [5, 4]);
        ctx.beginPath();
        if (scale.isHorizontal()) {
          ctx.moveTo(px, area.top);
          ctx.lineTo(px, area.bottom);
        } else {
          ctx.moveTo(area.left, px);
          ctx.lineTo(area.right, px);
        }
        ctx.stroke();
        if (line.text) {
          ctx.setLineDash([]);
          ctx.fillStyle = line.color || INK;
          ctx.font = '11px ' + FONT;
          if (scale.isHorizontal()) {
            ctx.textAlign = 'left';
            ctx.fillText(line.text, px + 4, area.top + 11);
          } else {
            ctx.textAlign = 'right';
            ctx.fillText(line.text, area.right - 4, px - 4);
          }
        }
        ctx.restore();
      }
    },
  };

  const sections = [];
  function section(id, title) {
    const s = el('section', { id: id });
    s.append(el('h2', null, title));
    sections.push({ id: id, title: title });
    root.append(s);
    return s;
  }

  // Renders one part; a failure shows in its place (and in the console) but spares the rest.
  function part(fn) {
    try {
      fn();
    } catch (e) {
      console.error('attain report:', e);
      root.append(el('p', { class: 'error' }, 'This part of the report could not be drawn: ' + e));
    }
  }

  function pTable(rows, scenarios, opts) {
    const table = el('table', { class: 'wide' });
    const head = el('tr', null, el('th', null, opts.first));
    if (opts.criterion) head.append(el('th', null, 'Criterion'));
    for (const s of scenarios) head.append(el('th', { style: 'text-align:center' }, s.name));
    table.append(el('thead', null, head));
    const body = el('tbody');
    for (const r of rows) {
      const tr = el('tr', { class: r.joint ? 'joint' : null }, el('td', null, r.label));
      if (opts.criterion) tr.append(el('td', null, r.criterion || ''));
      for (const x of r.values) {
        const p = x.p;
        const light = finite(p) ? 97 - 42 * p : 100;
        tr.append(el('td', {
          class: 'p',
          style: 'background:hsl(210,65%,' + light + '%);color:' + (light < 66 ? '#fff' : INK),
          title: finite(x.hits) ? x.hits + ' of ' + x.runs + ' runs' : null,
        }, pct(p), el('span', { class: 'iv' }, interval(x.lo, x.hi, x.p))));
      }
      body.append(tr);
    }
    table.append(body);
    return el('div', { class: 'scroll' }, table);
  }

  // The height a horizontal bar chart needs: each category as tall as its bars or its label's
  // lines, whichever is more.
  function categoryHeight(labels, bars) {
    return labels.reduce((h, l) => h + Math.max(bars, (Array.isArray(l) ? l.length : 1) * 14 + 10), 0);
  }

  // Horizontal bars of probabilities with their 95 % intervals as thin floating bars.
  function probabilityBars(parent, labels, groups, opts) {
    const datasets = [];
    groups.forEach((g, i) => {
      const color = g.color || scenarioColor(i);
      datasets.push({
        label: g.name, data: g.values.map((x) => (finite(x.p) ? x.p : null)),
        backgroundColor: alpha(color, 0.8), borderColor: color, borderWidth: 0,
        stack: 's' + i, order: 2, barPercentage: 0.92, categoryPercentage: 0.86, values: g.values,
      });
      datasets.push({
        label: g.name + ': 95 % interval', isInterval: true,
        data: g.values.map((x) => (finite(x.lo) ? [x.lo, x.hi] : null)),
        backgroundColor: INK, stack: 's' + i, order: 1, barPercentage: 0.22,
        categoryPercentage: 0.86, minBarLength: 2,
      });
    });
    chart(parent, categoryHeight(labels, groups.length * 15 + 12) + 90, {
      type: 'bar',
      data: { labels: labels, datasets: datasets },
      options: {
        indexAxis: 'y',
        scales: {
          x: {
            stacked: false,
            // Probabilities take the whole 0-100 % axis; other values get round ticks.
            [opts.suggest ? 'suggestedMin' : 'min']: opts.min === undefined ? 0 : opts.min,
            [opts.suggest ? 'suggestedMax' : 'max']: opts.max === undefined ? 1 : opts.max,
            title: { display: true, text: opts.axis },
            ticks: { callback: opts.tick || ((v) => Math.round(v * 100) + ' %') },
          },
          y: { stacked: true, ticks: { autoSkip: false } },
        },
        plugins: {
          legend: { display: groups.length > 1, labels: { filter: (item, data) => !data.datasets[item.datasetIndex].isInterval } },
          tooltip: {
            filter: (item) => !item.dataset.isInterval,
            callbacks: { label: (item) => item.dataset.label + ': ' + (opts.text || pctIv)(item.dataset.values[item.dataIndex]) },
          },
          refLines: { lines: opts.lines || [] },
        },
      },
      plugins: [refLines],
    }, opts.aria);
  }

  // ---------------------------------------------------------------------------------
  // The page.

  function cover() {
    const h = el('header', { class: 'cover' });
    h.append(el('p', { class: 'kicker' }, 'attain · goal attainment report'));
    const [zh, en] = splitLabel(M.name);
    h.append(el('h1', null, 'How likely is the plan to reach its targets? — ' + zh + (en ? ' (' + en + ')' : '')));
    if (M.description) {
      // The first sentence here; the whole description opens the model's section.
      const m = /^([\s\S]{20,400}?[.。])(\s|$)/.exec(M.description);
      h.append(el('p', { class: 'lead' }, m ? m[1] : M.description));
    }
    const runs = D.run.runs;
    const what = {
      run: 'Simulated ' + num(runs) + ' possible futures per scenario',
      compare: 'Compared scenarios on the same ' + num(runs) + ' simulated futures',
      sweep: 'Swept lever levels on ' + num(runs) + ' simulated futures each',
      search: 'Searched a lever level on ' + num(runs) + ' simulated futures each',
      sensitivity: 'Sensitivity analysis on ' + num(runs) + ' rows of a sampling design',
    }[D.run.analysis] || 'Analysis: ' + D.run.analysis;
    h.append(el('p', { class: 'meta' }, what + ' · time ' + M.time.start + '–' + M.time.end +
      ' · results file ' + D.file.split('/').pop() + (D.created ? ' · made ' + D.created : '') + ' · attain ' + D.engine_version));
    root.append(h);
    const nav = el('nav', { class: 'toc', 'aria-label': 'Contents' });
    root.append(nav);
    return nav;
  }

  function summary() {
    const s = section('summary', 'In short');
    if (!M.targets.length) {
      s.append(el('p', null, 'This model has no targets, so there are no probabilities to report.'));
    } else if (!ran.length) {
      s.append(el('p', null, {
        sweep: 'This file records a sweep: the chance of meeting the targets at a range of lever levels.',
        search: 'This file records a search: the least lever level that gives the targets a chosen chance.',
        sensitivity: 'This file records a sensitivity analysis: which uncertain assumptions decide whether each target is met.',
      }[D.run.analysis] || 'This file holds no probability of the targets per scenario; its results follow below.'));
    } else {
      s.append(el('p', null, 'Each scenario is a way the plan could be carried out. For each, attain simulated ' +
        num(ran[0].runs) + ' possible futures under the uncertainties written in the model and counted how often ' +
        (M.targets.length === 1 ? 'the target is' : 'each of the ' + M.targets.length + ' targets is') + ' met.'));
      const grid = el('div', { class: 'summary' });
      ran.forEach((sc, i) => {
        const card = el('div', { class: 'card', style: 'border-left-color:' + scenarioColor(i) });
        card.append(el('h3', null, sc.name));
        if (sc.description) card.append(el('p', { class: 'note clamp', title: sc.description }, sc.description));
        if (M.targets.length === 1) {
          card.append(el('div', { class: 'big' }, pct(sc.targets[0].p)));
          card.append(el('div', null, 'chance of meeting the target ', el('span', { class: 'note' }, interval(sc.targets[0].lo, sc.targets[0].hi, sc.targets[0].p))));
        } else if (sc.met) {
          // The headline: how many targets a future meets on average; the joint is a detail.
          card.append(el('div', { class: 'big' }, sc.met.expected.toFixed(1) + ' of ' + M.targets.length));
          card.append(el('div', null, 'targets expected to be met ',
            el('span', { class: 'note' }, '[' + sc.met.lo.toFixed(2) + ', ' + sc.met.hi.toFixed(2) + ']')));
          card.append(el('div', { class: 'note' }, 'all ' + M.targets.length + ' together: ' + pct(sc.joint.p) +
            (sc.joint.hits === 0 ? ' (no simulated future met them all)' : '')));
        } else {
          card.append(el('div', { class: 'big' }, pct(sc.joint.p)));
          card.append(el('div', null, 'chance of meeting all ' + M.targets.length + ' targets together ',
            el('span', { class: 'note' }, interval(sc.joint.lo, sc.joint.hi, sc.joint.p)),
            sc.joint.hits === 0 ? ' (no simulated future met them all)' : ''));
        }
        if (finite(sc.cost))
          card.append(el('div', null, 'cost ' + num(sc.cost) + ' ' + M.cost_unit + ' over ' +
            (M.time.start + M.time.step) + '–' + M.time.end));
        const order = M.targets.map((t, k) => k).sort((a, b) => sc.targets[b].p - sc.targets[a].p);
        const likely = order.filter((k) => sc.targets[k].p >= 0.5).length;
        const ul = el('ul');
        if (M.targets.length > 1)
          ul.append(el('li', null, likely + ' of ' + M.targets.length + ' targets are more likely met than not (50 % or more).'));
        const show = (k) => splitLabel(M.targets[k].label || M.targets[k].name)[0] + ': ' + pct(sc.targets[k].p);
        const n = Math.min(M.targets.length > 3 ? 2 : 1, order.length);
        if (M.targets.length > 1) {
          ul.append(el('li', null, 'Most likely: ' + order.slice(0, n).map(show).join('; ')));
          ul.append(el('li', null, 'Least likely: ' + order.slice(-n).reverse().map(show).join('; ')));
        }
        if (ul.childElementCount) card.append(ul);
        grid.append(card);
      });
      s.append(grid);
    }
    for (const c of D.comparisons) {
      if (!M.targets.length) break;
      const j = c.joint;
      const helped = c.targets.filter((t) => t.lo > 0).length, hurt = c.targets.filter((t) => t.hi < 0).length;
      const one = M.targets.length === 1;
      s.append(el('p', null, 'Compared with ' + c.reference + ', ' + c.scenario + ' changes the chance of meeting ' +
        (one ? 'the target' : 'all targets together') + ' by ' + pts(j.difference) + ' percentage points [' + pts(j.lo) + ', ' +
        pts(j.hi) + ']' + (one ? '.' : '; it raises the chance of ' + plural(helped, 'target') + ' and lowers it for ' + hurt +
        ' (counting those whose 95 % interval excludes no change).')));
    }
    if (D.search) s.append(el('p', null, searchSentence(D.search)));
    if (D.sweep && D.sweep.axes.length === 1 && D.sweep.points.length > 1) {
      const w = D.sweep, a = w.axes[0], first = w.points[0], last = w.points[w.points.length - 1];
      const what = M.targets.length === 1 ? (x) => x.targets[0] : (x) => x.joint;
      s.append(el('p', null, 'Sweep: as the ' + (a.absolute ? 'value' : 'scale') + ' of ' + a.lever + ' goes from ' + num(a.from) +
        ' to ' + num(a.to) + ', the chance of meeting ' + (M.targets.length === 1 ? 'the target' : 'all targets together') +
        ' goes from ' + pctIv(what(first)) + ' to ' + pctIv(what(last)) + '.'));
    }
    for (const x of D.sensitivity) {
      const words = [];
      for (const o of x.outputs) {
        if (!o.met || o.target < 0 || !(o.variance > 0)) continue;
        let best = -1;
        o.factors.forEach((f, j) => { if (finite(f.st[0]) && (best < 0 || f.st[0] > o.factors[best].st[0])) best = j; });
        if (best >= 0)
          words.push(el('li', null, el('b', null, splitLabel(M.targets[o.target].label || M.targets[o.target].name)[0]), ': ' +
            factorLabel(x.factors[best]).join(' ') + ' (total index ' + num(o.factors[best].st[0]) + ')'));
      }
      if (words.length) {
        s.append(el('p', null, 'The uncertain input that matters most for each target under ' + x.scenario +
          ' (see "What decides each target"):'));
        s.append(el('ul', null, words));
      }
    }
    const how = el('div', { class: 'howto' });
    how.append(el('p', null, el('b', null, 'How to read the numbers. '),
      'A probability is the share of simulated futures in which a target is met. The numbers in brackets are a 95 % interval: ' +
      'with this many simulated futures, the exact share under the model lies within it. The interval measures only the ' +
      'simulation\'s own noise; whether the model\'s assumptions are right is a separate question — every assumption and its source is listed under ',
      el('a', { href: '#assumptions' }, 'Assumptions'), '.'));
    s.append(how);
  }

  // A goal like 0.8 as "80 %", without needless decimals.
  const goal = (p) => (Number.isInteger(Math.round(p * 1e6) / 1e4) ? String(Math.round(p * 1e6) / 1e4) + ' %' : pct(p));

  function searchSentence(x) {
    const t = x.target === 'all' ? 'all targets together' : (splitLabel((M.targets.find((t) => t.name === x.target) || {}).label || x.target)[0]);
    const lever = x.levers.join(', ');
    const kind = x.absolute ? 'value of ' + lever : 'scale of ' + lever + ' (1 = as the plan is written)';
    if (!x.reachable)
      return 'Search: no level of ' + kind + ' between ' + num(x.range[0]) + ' and ' + num(x.range[1]) + ' gives a ' +
        goal(x.goal) + ' chance of ' + t + '; at the top of that range the chance is ' + pctIv(x.at_level) + '.';
    return 'Search: for a ' + goal(x.goal) + ' chance of ' + t + ', the ' + kind + ' must be at least ' + num(x.level) +
      ' (between ' + num(x.level_low) + ' and ' + (finite(x.level_high) ? num(x.level_high) : 'beyond the range searched') +
      ' allowing for simulation noise).';
  }

  function modelSection() {
    const s = section('model', 'The question and the model');
    if (M.description) s.append(el('p', null, M.description));
    const counts = {};
    for (const n of M.nodes) counts[n.kind] = (counts[n.kind] || 0) + 1;
    const step = M.time.step === 1 ? 'yearly' : 'in steps of ' + M.time.step + ' years';
    s.append(el('p', null, 'The model ', el('b', null, M.name), ' follows its quantities ' + step + ' from ' + M.time.start +
      ' to ' + M.time.end + '. It has ' + plural(M.nodes.length, 'quantity', 'quantities') + ': ' +
      [['lever', 'lever', 'levers', '(what the plan decides)'],
        ['parameter', 'uncertain parameter', 'uncertain parameters', '(drawn once per simulated future)'],
        ['shock', 'shock', 'shocks', '(year-to-year randomness)'], ['auxiliary', 'derived quantity', 'derived quantities', ''],
        ['stock', 'stock', 'stocks', '(quantities that accumulate from year to year)']]
        .filter(([k]) => counts[k]).map(([k, one, many, w]) => plural(counts[k], one, many) + (w ? ' ' + w : '')).join(', ') + '.'));
    if (M.targets.length) {
      s.append(el('h3', null, 'The targets'));
      const table = el('table', { class: 'wide' });
      table.append(el('thead', null, el('tr', null, el('th', null, 'Target, in the plan\'s words'), el('th', null, 'Measured by'),
        el('th', null, 'Criterion'), el('th', null, 'Source'))));
      const body = el('tbody');
      for (const t of M.targets)
        body.append(el('tr', null, el('td', null, labelCell(t.label, t.name)), el('td', null, labelCell(t.node_label, t.node)),
          el('td', null, targetWords(t)), el('td', { class: 'note' }, t.source)));
      table.append(body);
      s.append(el('div', { class: 'scroll' }, table));
    }
    s.append(el('h3', null, 'How the quantities depend on each other'));
    if (M.graph_note) s.append(el('p', { class: 'note' }, M.graph_note));
    if (M.graph_svg) {
      const doc = new DOMParser().parseFromString(M.graph_svg, 'image/svg+xml');
      const svg = doc.documentElement;
      if (svg.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length) throw new Error('the graph is not valid SVG');
      // Graphviz's SVG, kept to drawing: no scripts, event handlers or links out.
      for (const bad of svg.querySelectorAll('script, foreignObject')) bad.remove();
      for (const e of [svg, ...svg.querySelectorAll('*')])
        for (const a of Array.from(e.attributes))
          if (/^on/i.test(a.name) || (/href$/i.test(a.name) && !a.value.startsWith('#'))) e.removeAttribute(a.name);
      // Natural size, at most halved, so that labels stay readable; the box scrolls.
      const vb = (svg.getAttribute('viewBox') || '').split(/[ ,]+/).map(Number);
      const natural = vb.length === 4 && vb[2] > 0 ? vb[2] * 4 / 3 : 0;
      svg.removeAttribute('height');
      if (natural) svg.setAttribute('width', Math.round(Math.min(natural, Math.max(1100, natural / 2))));
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', 'dependency graph of ' + M.name);
      const box = el('div', { class: 'graph' });
      box.append(document.importNode(svg, true));
      s.append(el('p', { class: 'note' }, 'An arrow means "is computed from". Solid arrows act within the same year; dashed arrows act on ' +
        'the next year (a stock\'s change, or a value of the year before).'));
      s.append(el('ul', { class: 'legend-list' },
        el('li', null, '⌂ upside-down house: lever'), el('li', null, '◇ diamond: uncertain parameter'),
        el('li', null, '⯃ octagon: shock'), el('li', null, '○ ellipse: derived quantity'),
        el('li', null, '▭ double box: stock')));
      const toggle = el('button', { type: 'button' }, 'Fit to the page');
      toggle.addEventListener('click', () => {
        const fit = box.classList.toggle('fit');
        toggle.textContent = fit ? 'Readable size' : 'Fit to the page';
      });
      s.append(toggle, box);
    } else if (!M.graph_note) {
      s.append(el('p', { class: 'note' }, 'The graph could not be drawn' + (M.graph_error ? ': ' + M.graph_error : '') + '.'));
    }
    if (D.scenarios.length) {
      s.append(el('h3', null, 'The scenarios'));
      const ul = el('ul');
      D.scenarios.forEach((sc) => ul.append(el('li', null, el('b', null, sc.name), sc.description ? ': ' + sc.description : '',
        sc.path ? el('span', { class: 'name' }, ' (' + sc.path + ')') : '')));
      s.append(ul);
      leverTable(s);
    }
  }

  // What each scenario sets each lever to, year by year (the levers' values in the runs).
  function leverTable(s) {
    const levers = M.nodes.filter((n) => n.kind === 'lever');
    const withSeries = D.scenarios.filter((sc) => sc.series);
    if (!levers.length || !withSeries.length) return;
    s.append(el('h4', null, 'What each scenario sets the levers to, year by year'));
    const times = M.time.times;
    const table = el('table', { class: 'wide' });
    const head = el('tr', null, el('th', null, 'Lever'), el('th', null, 'Scenario'));
    times.forEach((t) => head.append(el('th', { class: 'num' }, t)));
    table.append(el('thead', null, head));
    const body = el('tbody');
    for (const l of levers) {
      withSeries.forEach((sc, i) => {
        const ser = sc.series[l.name];
        if (!ser) return;
        const tr = el('tr');
        if (i === 0) tr.append(el('td', { rowspan: withSeries.length }, labelCell(l.label, l.name), l.unit ? el('div', { class: 'note' }, l.unit) : null));
        tr.append(el('td', null, sc.name));
        ser.mean.forEach((v) => tr.append(el('td', { class: 'num' }, exact(v))));
        body.append(tr);
      });
    }
    table.append(body);
    s.append(el('details', null, el('summary', null, 'Lever values per scenario (' + plural(levers.length, 'lever') + ')'), el('div', { class: 'scroll' }, table)));
  }

  function probabilities() {
    if (!ran.length || !M.targets.length) return;
    const s = section('probabilities', 'The chance of meeting each target');
    s.append(el('p', null, 'Per target and scenario: the probability of meeting the target in its year, with its 95 % interval. ' +
      'Darker cells are more likely.' + (M.targets.length > 1 ? ' The last row is the chance that every target is met in the same simulated future.' : '')));
    const rows = M.targets.map((t, k) => ({
      label: labelCell(t.label, t.name), criterion: targetWords(t),
      values: ran.map((sc) => sc.targets[k]),
    }));
    if (M.targets.length > 1) rows.push({ label: 'All targets together', joint: true, values: ran.map((sc) => sc.joint) });
    s.append(pTable(rows, ran, { first: 'Target', criterion: true }));
    s.append(el('h3', null, 'The same as a chart'));
    s.append(el('p', { class: 'note' }, 'Bars: the probability; the dark mark at the end of each bar: its 95 % interval.'));
    const labels = M.targets.map((t) => chartLabel(t.label, t.name, 44));
    if (M.targets.length > 1) labels.push(['All targets together']);
    probabilityBars(s, labels, ran.map((sc) => ({ name: sc.name, values: M.targets.length > 1 ? [...sc.targets, sc.joint] : sc.targets })), {
      axis: 'probability of meeting the target', aria: 'probability of each target per scenario',
    });
  }

  function fanRange(nodeName, extra) {
    let lo = Infinity, hi = -Infinity;
    for (const sc of ran) {
      const ser = sc.series && sc.series[nodeName];
      if (!ser) continue;
      for (const row of ser.q) for (const v of row) if (finite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    }
    for (const v of extra) if (finite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return [lo, hi];
  }

  // The distribution of a node over time in one scenario: bands of 5-95 % and 25-75 %,
  // the median, the target's threshold and any known actual value.
  function fan(parent, sc, i, nodeName, target, range) {
    const ser = sc.series && sc.series[nodeName];
    if (!ser) return;
    const times = M.time.times;
    const levels = sc.levels || [0.05, 0.25, 0.5, 0.75, 0.95];
    const at = (lv) => levels.findIndex((l) => Math.abs(l - lv) < 1e-9);
    const q = (lv) => ser.q.map((row) => (at(lv) >= 0 ? row[at(lv)] : null));
    const color = scenarioColor(i);
    const line = { pointRadius: 0, borderWidth: 0, fill: false };
    const datasets = [
      Object.assign({ label: '5 %', data: q(0.05), helper: true }, line),
      Object.assign({}, line, { label: '5–95 %', data: q(0.95), fill: '-1', backgroundColor: alpha(color, 0.16), band: [q(0.05), q(0.95)] }),
      Object.assign({ label: '25 %', data: q(0.25), helper: true }, line),
      Object.assign({}, line, { label: '25–75 %', data: q(0.75), fill: '-1', backgroundColor: alpha(color, 0.34), band: [q(0.25), q(0.75)] }),
      { label: 'median', data: q(0.5), borderColor: color, borderWidth: 2, pointRadius: 2, fill: false },
    ];
    if (target) {
      datasets.push({
        label: 'target', data: times.map(() => target.threshold), borderColor: TARGET, borderDash: [6, 4],
        borderWidth: 1.5, pointRadius: times.map((t) => (t === target.year ? 4 : 0)), pointBackgroundColor: TARGET, fill: false,
      });
    }
    const actuals = M.actuals.filter((a) => a.node === nodeName && times.includes(a.year));
    if (actuals.length) {
      datasets.push({
        label: 'actual', data: times.map((t) => { const a = actuals.find((x) => x.year === t); return a ? a.value : null; }),
        showLine: false, pointRadius: 6, pointStyle: 'rectRot', pointBackgroundColor: INK, borderColor: INK,
      });
    }
    const box = el('div', { class: 'fan' }, el('h5', { style: 'color:' + color }, sc.name));
    parent.append(box);
    const pad = (range[1] - range[0]) * 0.05 || Math.abs(range[0]) * 0.05 || 1;
    chart(box, 210, {
      type: 'line',
      data: { labels: times.map(String), datasets: datasets },
      options: {
        scales: { y: { suggestedMin: range[0] - pad, suggestedMax: range[1] + pad, ticks: { callback: (v) => num(v), maxTicksLimit: 6 } } },
        plugins: {
          legend: { display: false },
          tooltip: {
            mode: 'index', intersect: false,
            filter: (item) => !item.dataset.helper && item.raw !== null,
            callbacks: {
              label: (item) => {
                const d = item.dataset;
                if (d.band) return d.label + ': ' + num(d.band[0][item.dataIndex]) + ' to ' + num(d.band[1][item.dataIndex]);
                return d.label + ': ' + num(item.raw);
              },
            },
          },
        },
      },
    }, 'distribution of ' + nodeName + ' under ' + sc.name);
  }

  function fanLegend() {
    return el('p', { class: 'note' }, 'In each small chart: the light band holds the middle 90 % of simulated futures (5 % to 95 %), ' +
      'the darker band the middle 50 %, the line is the median; the red dashed line is the target (its dot marks the target year); ' +
      'a black diamond is the value actually observed, where known.');
  }

  function fans() {
    const withSeries = ran.filter((sc) => sc.series);
    if (!M.targets.length || !withSeries.length) return;
    const s = section('paths', 'How each target\'s quantity may develop');
    s.append(fanLegend());
    for (const t of M.targets) {
      const node = nodeOf(t.node);
      const block = el('div', { class: 'target-block' });
      block.append(el('h3', null, splitLabel(t.label || t.name)[0]));
      const [, en] = splitLabel(t.label);
      block.append(el('p', { class: 'note' }, (en ? en + ' — ' : '') + 'measured by ' + (node.label || node.name) +
        (node.unit ? ', in ' + node.unit : '') + '; target ' + targetWords(t) + '.'));
      const grid = el('div', { class: 'fans' });
      block.append(grid);
      s.append(block);
      const range = fanRange(t.node, [t.threshold, ...M.actuals.filter((a) => a.node === t.node).map((a) => a.value)]);
      ran.forEach((sc, i) => fan(grid, sc, i, t.node, t, range));
    }
  }

  function actualsSection() {
    if (!M.actuals.length || !ran.length) return;
    const s = section('actuals', 'Checks against what actually happened');
    s.append(el('p', null, 'Where an outcome is known, this is where it falls among the simulated futures: its percentile. ' +
      'Around 50 % means the model expected about this value; near 0 % or 100 % means the outcome was at the edge of what the model thought possible.'));
    const table = el('table', { class: 'wide' });
    const head = el('tr', null, el('th', null, 'Quantity'), el('th', null, 'Year'), el('th', { class: 'num' }, 'Actual'));
    ran.forEach((sc) => head.append(el('th', { class: 'num' }, sc.name)));
    table.append(el('thead', null, head));
    const body = el('tbody');
    M.actuals.forEach((a, k) => {
      const node = nodeOf(a.node);
      const tr = el('tr', null, el('td', null, labelCell(a.label || node.label, a.node), a.source ? el('div', { class: 'note' }, a.source) : null),
        el('td', null, a.year), el('td', { class: 'num' }, exact(a.value) + (a.unit && a.unit !== '1' ? ' ' + a.unit : '')));
      ran.forEach((sc) => tr.append(el('td', { class: 'num' }, sc.actuals[k] ? pct(sc.actuals[k].percentile, 1) : '–')));
      body.append(tr);
    });
    table.append(body);
    s.append(el('div', { class: 'scroll' }, table));
    const targetNodes = new Set(M.targets.map((t) => t.node));
    const others = [...new Set(M.actuals.map((a) => a.node))].filter((n) => !targetNodes.has(n));
    if (others.length && ran.some((sc) => sc.series)) {
      s.append(fanLegend());
      for (const name of others) {
        const node = nodeOf(name);
        s.append(el('h3', null, splitLabel(node.label || name)[0] + (node.unit ? ' (' + node.unit + ')' : '')));
        const grid = el('div', { class: 'fans' });
        s.append(grid);
        const range = fanRange(name, M.actuals.filter((a) => a.node === name).map((a) => a.value));
        ran.forEach((sc, i) => fan(grid, sc, i, name, null, range));
      }
    }
  }

  function comparisons() {
    if (!D.comparisons.length) return;
    const s = section('comparisons', 'What changes between scenarios');
    s.append(el('p', null, 'Each scenario is set against ' + D.comparisons[0].reference + ' on the same simulated futures, so the difference ' +
      'is measured future by future. "Helped": futures in which the target is met only under the scenario; "hurt": only under ' +
      D.comparisons[0].reference + '. Differences are in percentage points, with their 95 % interval (Newcombe\'s method for paired proportions).'));
    for (const c of D.comparisons) {
      s.append(el('h3', null, c.scenario + ' against ' + c.reference));
      const rows = [...c.targets, ...(M.targets.length > 1 ? [c.joint] : [])];
      const table = el('table', { class: 'wide' });
      table.append(el('thead', null, el('tr', null, el('th', null, 'Target'), el('th', { class: 'num' }, c.reference),
        el('th', { class: 'num' }, c.scenario), el('th', { class: 'num' }, 'Difference (points)'),
        el('th', { class: 'num' }, 'Helped'), el('th', { class: 'num' }, 'Hurt'))));
      const body = el('tbody');
      rows.forEach((t, k) => {
        const target = M.targets.find((x) => x.name === t.name);
        const joint = k >= c.targets.length;
        body.append(el('tr', { class: joint ? 'joint' : null },
          el('td', null, joint ? 'All targets together' : labelCell(target ? target.label : t.name, t.name)),
          el('td', { class: 'num' }, pctIv(t.reference)), el('td', { class: 'num' }, pctIv(t.other)),
          el('td', { class: 'num', style: 'color:' + (t.lo > 0 ? GOOD : t.hi < 0 ? BAD : INK) }, pts(t.difference) + ' [' + pts(t.lo) + ', ' + pts(t.hi) + ']'),
          el('td', { class: 'num' }, num(t.helped)), el('td', { class: 'num' }, num(t.hurt))));
      });
      table.append(body);
      s.append(el('div', { class: 'scroll' }, table));
      const labels = rows.map((t, k) => (k >= c.targets.length ? ['All targets together']
        : chartLabel((M.targets.find((x) => x.name === t.name) || {}).label || t.name, t.name, 44)));
      const lo = Math.min(0, ...rows.map((t) => t.lo).filter(finite)), hi = Math.max(0, ...rows.map((t) => t.hi).filter(finite));
      const span = Math.max(hi - lo, 0.01);
      probabilityBars(s, labels, [{
        name: 'difference', color: COLORS[0],
        values: rows.map((t) => ({ p: t.difference, lo: t.lo, hi: t.hi })),
      }], {
        min: lo - span * 0.02, max: hi + span * 0.02, suggest: true,
        axis: 'difference in the chance of meeting the target (percentage points)',
        tick: (v) => (v > 0 ? '+' : v < 0 ? '−' : '') + num(Math.abs(v * 100)), text: (x) => pts(x.p) + ' points [' + pts(x.lo) + ', ' + pts(x.hi) + ']',
        lines: [{ axis: 'x', value: 0, dash: [], color: INK }], aria: 'differences of ' + c.scenario + ' against ' + c.reference,
      });
    }
  }

  function sweepSection() {
    const w = D.sweep;
    if (!w || !w.points.length) return;
    const s = section('sweep', 'The chances across lever levels');
    const axes = w.axes;
    const last = axes[axes.length - 1];
    const axisName = (a) => (a.absolute ? 'value of ' : 'scale of ') + a.lever + (a.absolute ? '' : ' (1 = as written)');
    s.append(el('p', null, 'Every level was evaluated on the same ' + num(w.runs) + ' simulated futures' +
      (D.analysis_scenario ? ', starting from scenario ' + D.analysis_scenario : '') + '. Lever' + (axes.length > 1 ? 's' : '') + ': ' +
      axes.map((a) => splitLabel(nodeOf(a.lever).label || a.lever)[0] + ' — ' + axisName(a) + ' from ' + num(a.from) + ' to ' + num(a.to)).join('; ') + '.'));
    if (w.non_monotone.length)
      s.append(el('p', { class: 'note' }, 'Where a chance falls as the level rises: ' + w.non_monotone.join('; ') + '.'));
    // One chart per combination of the other levers' levels (the last lever on the x axis).
    const groups = new Map();
    for (const p of w.points) {
      const key = p.levels.slice(0, -1).map(num).join(', ');
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(p);
    }
    let drawn = 0;
    for (const [key, points] of groups) {
      if (drawn++ >= 6) {
        s.append(el('p', { class: 'note' }, 'Further combinations are in the results file (' + groups.size + ' in all).'));
        break;
      }
      if (key) s.append(el('h4', null, axes.slice(0, -1).map((a) => a.lever).join(', ') + ' = ' + key));
      const datasets = M.targets.map((t, k) => ({
        label: splitLabel(t.label || t.name)[0], data: points.map((p) => ({ x: p.levels[p.levels.length - 1], y: p.targets[k].p })),
        values: points.map((p) => p.targets[k]), borderColor: COLORS[k % COLORS.length], backgroundColor: COLORS[k % COLORS.length],
        borderDash: k >= COLORS.length ? [4, 3] : [], pointRadius: 3, fill: false,
      }));
      if (M.targets.length > 1)
        datasets.push({
          label: 'All targets together', data: points.map((p) => ({ x: p.levels[p.levels.length - 1], y: p.joint.p })),
          values: points.map((p) => p.joint), borderColor: INK, backgroundColor: INK, borderWidth: 3, pointRadius: 3, fill: false,
        });
      chart(s, 380, {
        type: 'line',
        data: { datasets: datasets },
        options: {
          parsing: true,
          scales: {
            x: { type: 'linear', title: { display: true, text: axisName(last) } },
            y: { min: 0, max: 1, title: { display: true, text: 'probability' }, ticks: { callback: (v) => Math.round(v * 100) + ' %' } },
          },
          plugins: {
            legend: { position: 'right', labels: { boxWidth: 14 } },
            tooltip: { callbacks: { label: (item) => item.dataset.label + ': ' + pctIv(item.dataset.values[item.dataIndex]) } },
          },
        },
      }, 'probability against the level of ' + last.lever);
    }
    const table = el('table', { class: 'wide' });
    const head = el('tr', null, axes.map((a) => el('th', { class: 'num' }, a.lever)));
    M.targets.forEach((t) => head.append(el('th', { class: 'num' }, splitLabel(t.label || t.name)[0])));
    if (M.targets.length > 1) head.append(el('th', { class: 'num' }, 'All targets together'));
    table.append(el('thead', null, head));
    const body = el('tbody');
    for (const p of w.points) {
      const tr = el('tr', null, p.levels.map((v) => el('td', { class: 'num' }, num(v))));
      for (const x of [...p.targets, ...(M.targets.length > 1 ? [p.joint] : [])]) tr.append(el('td', { class: 'num' }, pctIv(x)));
      body.append(tr);
    }
    table.append(body);
    s.append(el('details', null, el('summary', null, 'Every level with its 95 % interval (' + plural(w.points.length, 'level') + ')'),
      el('div', { class: 'scroll' }, table)));
  }

  function searchSection() {
    const x = D.search;
    if (!x) return;
    const s = section('search', 'The lever level needed');
    s.append(el('p', null, searchSentence(x)));
    s.append(el('p', { class: 'note' }, x.evaluations.length + ' levels were evaluated on the same ' + num(x.runs) + ' simulated futures' +
      (D.analysis_scenario ? ', starting from scenario ' + D.analysis_scenario : '') + '. ' +
      (x.monotone ? '' : 'Warning: the chance fell somewhere as the level rose, so the level found may not be the least one.')));
    const pts2 = x.evaluations.filter((e) => finite(e.level));
    const bars = [];
    for (const e of pts2) bars.push({ x: e.level, y: e.p.lo }, { x: e.level, y: e.p.hi }, { x: e.level, y: null });
    chart(s, 320, {
      type: 'line',
      data: {
        datasets: [
          { label: 'probability at the level', data: pts2.map((e) => ({ x: e.level, y: e.p.p })), values: pts2.map((e) => e.p),
            showLine: false, pointRadius: 4, backgroundColor: COLORS[0], borderColor: COLORS[0] },
          { label: '95 % interval', data: bars, borderColor: INK, borderWidth: 1.5, pointRadius: 0, spanGaps: false, isInterval: true },
        ],
      },
      options: {
        scales: {
          x: { type: 'linear', title: { display: true, text: (x.absolute ? 'value of ' : 'scale of ') + x.levers.join(', ') } },
          y: { min: 0, max: 1, ticks: { callback: (v) => Math.round(v * 100) + ' %' } },
        },
        plugins: {
          tooltip: { filter: (item) => !item.dataset.isInterval, callbacks: { label: (item) => 'level ' + num(item.raw.x) + ': ' + pctIv(item.dataset.values[item.dataIndex]) } },
          refLines: { lines: [{ axis: 'y', value: x.goal, color: TARGET, text: 'goal ' + goal(x.goal) },
            ...(x.reachable ? [{ axis: 'x', value: x.level, color: GOOD, text: 'level found ' + num(x.level) }] : [])] },
        },
      },
      plugins: [refLines],
    }, 'search evaluations');
  }

  function factorLabel(f) {
    if (f.shocks || f.why === 'shocks') return ['Year-to-year randomness', '(all shocks together)'];
    if (f.members.length === 1) return chartLabel(nodeOf(f.members[0]).label || f.name, f.name, 40);
    // A group: its members' short labels, moved together.
    const names = f.members.map((m) => splitLabel(nodeOf(m).label || m)[0]).join(' + ');
    return [...wrap(names, 40), '(' + (f.why === 'correlation group' ? 'correlated, varied together' : 'varied together') + ')'];
  }

  function sensitivitySection() {
    if (!D.sensitivity.length) return;
    const s = section('sensitivity', 'What decides each target');
    s.append(el('p', null, 'Which uncertain assumptions decide whether a target is met. Two views per target:'));
    s.append(el('ul', null,
      el('li', null, el('b', null, 'Left, by thirds: '), 'the chance of meeting the target when an uncertain parameter lies in the lowest third ' +
        'of its range (one end of the bar) and in the highest third (the other end). Green: the target is likelier when the parameter is high; red: when it is low. ' +
        'The dashed line is the chance overall. Long bars are the assumptions that matter most.'),
      el('li', null, el('b', null, 'Right, total index: '), 'the share of the uncertainty about meeting the target that an input accounts for, alone and ' +
        'in combination with others (Sobol\'s total index, with its 95 % bootstrap interval). Near 0: it hardly matters; near 1: it decides almost everything.')));
    for (const x of D.sensitivity) {
      s.append(el('h3', null, 'Scenario ' + x.scenario));
      s.append(el('p', { class: 'note' }, num(x.rows) + ' rows of a ' + x.sampling + ' design, ' + num(x.runs) + ' model runs, ' +
        x.resamples + ' bootstrap resamples.'));
      for (const o of x.outputs) {
        if (!o.met) continue;
        const t = o.target >= 0 ? M.targets[o.target] : null;
        const block = el('div', { class: 'target-block' });
        s.append(block);
        block.append(el('h4', null, t ? splitLabel(t.label || t.name)[0] : 'All targets together'));
        if (!(o.variance > 0)) {
          block.append(el('p', { class: 'note' }, 'Met in ' + pct(o.mean) + ' of the runs: nothing varies, so there is nothing to attribute.'));
          continue;
        }
        block.append(el('p', { class: 'note' }, 'Chance of meeting it over the design\'s runs: ' + pct(o.mean) + '.'));
        const prim = x.prim.find((p) => t && p.target === o.target);
        if (prim && !prim.reason && prim.restricted.length) {
          const words = prim.restricted.filter((d) => d.quasi_p < 0.05).map((d) => {
            const name = d.name || x.uncertain[d.dim];
            const label = splitLabel(nodeOf(name).label || name)[0];
            if (d.lower_restricted && d.upper_restricted) return label + ' between ' + num(d.lower) + ' and ' + num(d.upper);
            return label + (d.lower_restricted ? ' at least ' + num(d.lower) : ' at most ' + num(d.upper));
          });
          if (words.length)
            block.append(el('p', null, 'The target is met in ' + pct(prim.box.density, 0) + ' of the simulated futures where ' + words.join(', and ') +
              ' (these hold ' + pct(prim.box.mass, 0) + ' of all futures and ' + pct(prim.box.coverage, 0) + ' of those meeting the target; PRIM).'));
        }
        const pair = el('div', { class: 'pair' });
        block.append(pair);
        const left = el('div'), right = el('div');
        pair.append(left, right);
        // Tornado: P(met) in the lower and upper thirds of each parameter.
        const rows = x.uncertain.map((name, q) => ({ name: name, th: o.thirds[q] }))
          .filter((r) => r.th && finite(r.th[0].value) && finite(r.th[2].value))
          .sort((a, b) => Math.abs(b.th[2].value - b.th[0].value) - Math.abs(a.th[2].value - a.th[0].value))
          .slice(0, 8);
        if (rows.length) {
          const tornadoTop = Math.max(o.mean, ...rows.map((r) => Math.max(r.th[0].value, r.th[2].value)));
          const tornadoLabels = rows.map((r) => chartLabel(nodeOf(r.name).label || r.name, r.name, 34));
          chart(left, categoryHeight(tornadoLabels, 30) + 80, {
            type: 'bar',
            data: {
              labels: tornadoLabels,
              datasets: [{
                label: 'lower third → upper third', data: rows.map((r) => [r.th[0].value, r.th[2].value]),
                backgroundColor: rows.map((r) => (r.th[2].value >= r.th[0].value ? alpha(GOOD, 0.75) : alpha(BAD, 0.75))),
                minBarLength: 2, barPercentage: 0.8, thirds: rows.map((r) => r.th),
              }],
            },
            options: {
              indexAxis: 'y',
              // 0-100 %, or zoomed in when every bar is below 50 %.
              scales: { x: { min: 0, [tornadoTop < 0.5 ? 'suggestedMax' : 'max']: tornadoTop < 0.5 ? tornadoTop * 1.1 : 1,
                title: { display: true, text: 'chance of meeting the target' }, ticks: { callback: (v) => num(v * 100) + ' %' } },
                y: { ticks: { autoSkip: false, font: { size: 11 } } } },
              plugins: {
                legend: { display: false },
                tooltip: { callbacks: { label: (item) => { const th = item.dataset.thirds[item.dataIndex];
                  return ['lowest third: ' + pctIv(toP(th[0])), 'middle third: ' + pctIv(toP(th[1])), 'highest third: ' + pctIv(toP(th[2]))]; } } },
                refLines: { lines: [{ axis: 'x', value: o.mean, text: 'overall ' + pct(o.mean) }] },
              },
            },
            plugins: [refLines],
          }, 'tornado chart');
        }
        // Total indices with their intervals.
        const fs = x.factors.map((f, j) => ({ f: f, st: o.factors[j] ? o.factors[j].st : [null, null, null] }))
          .filter((r) => finite(r.st[0])).sort((a, b) => b.st[0] - a.st[0]).slice(0, 8);
        if (fs.length) {
          const top = Math.min(1, Math.max(0.1, ...fs.map((r) => (finite(r.st[2]) ? r.st[2] : r.st[0]))) * 1.05);
          probabilityBars(right, fs.map((r) => factorLabel(r.f)), [{ name: 'total index', color: COLORS[0],
            values: fs.map((r) => ({ p: Math.max(0, r.st[0]), lo: r.st[1], hi: r.st[2], raw: r.st[0] })) }], {
            min: 0, max: top, suggest: true, axis: 'total index (share of the uncertainty)', tick: (v) => num(v),
            text: (v) => num(v.raw) + ' [' + num(v.lo) + ', ' + num(v.hi) + ']', aria: 'total indices',
          });
        }
      }
    }
  }

  const toP = (t) => ({ p: t.value, lo: t.lo, hi: t.hi });

  function assumptions() {
    const s = section('assumptions', 'Assumptions');
    s.append(el('p', null, 'Every number the model rests on, with where it comes from. Uncertain parameters are drawn once per simulated ' +
      'future from the distribution shown; levers are what the plan (or a scenario) decides.'));
    const kinds = [['lever', 'Levers: what the plan decides'], ['parameter', 'Uncertain parameters']];
    for (const [kind, title] of kinds) {
      const nodes = M.nodes.filter((n) => n.kind === kind);
      if (!nodes.length) continue;
      s.append(el('h3', null, title + ' (' + nodes.length + ')'));
      const table = el('table', { class: 'wide' });
      table.append(el('thead', null, el('tr', null, el('th', { style: 'width:32%' }, 'Quantity'), el('th', { style: 'width:11%' }, 'Unit'),
        el('th', { style: 'width:22%' }, kind === 'lever' ? 'As the plan is written' : 'Distribution'),
        el('th', { style: 'width:35%' }, 'Source and reasoning'))));
      const body = el('tbody');
      for (const n of nodes)
        body.append(el('tr', null, el('td', null, labelCell(n.label, n.name), n.description ? el('div', { class: 'note' }, n.description) : null),
          el('td', null, n.unit), el('td', null, kind === 'lever' ? n.rule : n.dist), el('td', { class: 'note' }, n.source)));
      table.append(body);
      s.append(el('div', { class: 'scroll' }, table));
    }
    if (M.correlations.length) {
      s.append(el('h3', null, 'Parameters that move together'));
      const ul = el('ul');
      for (const c of M.correlations) {
        const pairs = [];
        c.parameters.forEach((a, i) => c.parameters.forEach((b, j) => {
          if (j > i && c.matrix[i] && finite(c.matrix[i][j])) pairs.push(a + ' and ' + b + ': ' + num(c.matrix[i][j]));
        }));
        ul.append(el('li', null, 'Rank correlation ' + pairs.join('; ')));
      }
      s.append(ul);
    }
    const others = M.nodes.filter((n) => n.kind !== 'lever' && n.kind !== 'parameter');
    if (others.length) {
      const table = el('table', { class: 'wide' });
      table.append(el('thead', null, el('tr', null, el('th', null, 'Quantity'), el('th', null, 'Kind'), el('th', null, 'Unit'),
        el('th', null, 'What it is'), el('th', null, 'Source'))));
      const body = el('tbody');
      const words = { shock: 'shock (drawn every year)', auxiliary: 'derived', stock: 'stock (accumulates)' };
      for (const n of others)
        body.append(el('tr', null, el('td', null, labelCell(n.label, n.name)), el('td', null, (words[n.kind] || n.kind) + (n.dist ? ': ' + n.dist : '')),
          el('td', null, n.unit), el('td', null, n.description), el('td', { class: 'note' }, n.source)));
      table.append(body);
      s.append(el('details', { class: 'print-open' }, el('summary', null, 'The other ' + others.length + ' quantities: shocks, derived quantities and stocks'),
        el('div', { class: 'scroll' }, table)));
    }
  }

  function provenance() {
    const s = section('provenance', 'Where these results come from');
    const r = D.run;
    const facts = [
      ['Results file', D.file], ['Made', D.created || '–'], ['attain version', D.engine_version],
      ['Results layout', D.layout_version], ['Analysis', r.analysis], ['Random numbers', D.rng || '–'],
      ['Seed', String(r.seed)], ['Runs', num(r.runs) + (r.ci_width ? ' at most (stopped once every 95 % half-width was ≤ ' + r.ci_width + ')' : '')],
      ['First run', String(r.first_run)], ['Chunk', String(r.chunk)], ['Per-run data kept', r.store],
      ['Model file', M.path || '–'],
    ];
    s.append(el('dl', { class: 'facts' }, facts.map(([k, v]) => [el('dt', null, k), el('dd', null, v)])));
    s.append(el('p', { class: 'note' }, 'The same seed, runs and files give the same numbers, bit for bit, on any machine and any number of threads.'));
    s.append(el('details', null, el('summary', null, 'Model source: ' + (M.path || M.name)), el('pre', null, M.source)));
    for (const sc of D.scenarios)
      for (const src of sc.sources || [])
        s.append(el('details', null, el('summary', null, 'Scenario ' + sc.name + ': ' + src.path), el('pre', null, src.text)));
    root.append(el('footer', null, 'Made by attain ' + D.engine_version + ' from ' + D.file + '. This page is self-contained: it makes ' +
      'no network request. Charts: Chart.js 3 (MIT licence), included in the page; graph layout: Graphviz.'));
  }

  const nav = cover();
  for (const fn of [summary, modelSection, probabilities, fans, actualsSection, comparisons, sweepSection, searchSection,
    sensitivitySection, assumptions, provenance]) part(fn);
  const ol = el('ol');
  for (const x of sections) ol.append(el('li', null, el('a', { href: '#' + x.id }, x.title)));
  nav.append(el('b', null, 'Contents'), ol);

  window.addEventListener('beforeprint', () => {
    for (const d of document.querySelectorAll('details.print-open')) d.open = true;
    for (const c of charts) c.resize();
  });
  document.documentElement.dataset.charts = String(charts.length);
}());
