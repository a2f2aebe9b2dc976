#include "serving/experiment_dashboard.h"

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/file_util.h"

namespace marketsearch {

ExperimentDashboard::ExperimentDashboard(const Options& options) : options_(options) {
  if (absl::StatusOr<std::string> js = ReadFile(options_.chart_js_path); js.ok()) chart_js_ = *js;
}

std::string ExperimentDashboard::ReportJson() {
  const int64_t now_ms = NowUnixMs();
  absl::MutexLock lock(&mu_);
  if (!cached_json_.empty() && now_ms - cached_at_ms_ < options_.cache_ms) return cached_json_;
  const std::shared_ptr<const ExperimentSet> set =
      options_.router != nullptr ? options_.router->current() : nullptr;
  std::string json;
  if (set == nullptr || options_.log == nullptr) {
    json = "{\"experiments\":[]}";
  } else {
    if (!judged_loaded_ && !options_.catalog_dir.empty()) {
      absl::StatusOr<std::unique_ptr<JudgedQueryIndex>> j =
          LoadJudgedQueries(options_.catalog_dir, options_.max_judgment_bytes);
      if (j.ok()) judged_ = *std::move(j);
    }
    judged_loaded_ = true;
    static const JudgedQueries kNone;
    absl::StatusOr<std::vector<ExperimentReport>> reports = AnalyzeExperiments(
        *options_.log, *set, judged_ != nullptr ? judged_->by_text : kNone, now_ms / 1000,
        options_.analysis);
    if (!reports.ok()) {
      return absl::StrCat("{\"error\":\"", reports.status().message(), "\"}");
    }
    json = ReportsToJson(*reports);
  }
  // The time the numbers were computed, for the page's header.
  json.insert(1, absl::StrCat("\"generated_unix_ms\":", now_ms, ","));
  cached_json_ = json;
  cached_at_ms_ = now_ms;
  return json;
}

AdminServer::Response ExperimentDashboard::Respond(const std::string& path) {
  AdminServer::Response r;
  if (path == "/experiments" || path == "/experiments/") {
    r.content_type = "text/html; charset=utf-8";
    r.body = PageHtml();
  } else if (path == "/experiments/api") {
    r.content_type = "application/json";
    r.body = ReportJson();
  } else if (path == "/experiments/chart.js") {
    if (chart_js_.empty()) {
      r.status = 404;
      r.body = absl::StrCat("Chart.js not found at ", options_.chart_js_path,
                            " (Debian package libjs-chart.js)\n");
    } else {
      r.content_type = "text/javascript; charset=utf-8";
      r.body = chart_js_;
    }
  } else {
    r.status = 404;
    r.body = "not found: /experiments, /experiments/api, /experiments/chart.js\n";
  }
  return r;
}

// The page renders the JSON with plain DOM code and Chart.js; it counts its own script errors
// in <body data-js-errors> and marks <body data-rendered> when done, for the browser test.
const char* ExperimentDashboard::PageHtml() {
  return R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>marketsearch experiments</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 24px; color: #1d2330; background: #fafbfc; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 18px; margin: 28px 0 4px; }
  .meta { color: #5b6475; font-size: 13px; margin-bottom: 10px; }
  table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; background: #fff; }
  th, td { border: 1px solid #dde1e8; padding: 4px 8px; text-align: right; }
  th { background: #eef1f5; }
  td.name, th.name { text-align: left; }
  .banner { padding: 6px 10px; border-radius: 4px; margin: 6px 0; font-size: 13px; }
  .warn { background: #fff4d6; border: 1px solid #f0c36d; }
  .bad { background: #fde2e1; border: 1px solid #e3736e; }
  .ok { background: #e3f5e6; border: 1px solid #7cc48a; }
  .sig { font-weight: 600; }
  .ci { position: relative; width: 160px; height: 12px; background: #f2f4f7; display: inline-block; }
  .ci .zero { position: absolute; left: 50%; top: 0; bottom: 0; border-left: 1px solid #8a93a3; }
  .ci .bar { position: absolute; top: 3px; height: 6px; background: #4b7bec; }
  .ci .bar.pos { background: #2e9e5b; } .ci .bar.neg { background: #d9534f; }
  .charts { display: flex; gap: 16px; flex-wrap: wrap; }
  .chart { width: 420px; height: 240px; background: #fff; border: 1px solid #dde1e8; padding: 6px; }
  .note { color: #5b6475; font-size: 12px; max-width: 900px; }
</style>
</head>
<body data-js-errors="0" data-rendered="0" data-charts="0">
<h1>marketsearch experiments</h1>
<div class="meta" id="generated">loading…</div>
<div id="experiments"></div>
<p class="note">Users are the unit: every ratio metric is per-user totals with a delta-method
variance. "95% CI" is the fixed-horizon interval, valid only at the planned sample;
"always-valid" is the mixture-sequential interval, valid whenever you look; the verdict reads the
primary metric's always-valid interval and the guardrails. Secondary p-values are Holm-adjusted.
A sample-ratio mismatch (SRM, p &lt; 0.001) invalidates an experiment.</p>
<script>
  window.addEventListener('error', function () {
    document.body.dataset.jsErrors = String(Number(document.body.dataset.jsErrors) + 1);
  });
  window.addEventListener('unhandledrejection', function () {
    document.body.dataset.jsErrors = String(Number(document.body.dataset.jsErrors) + 1);
  });
</script>
<script src="/experiments/chart.js"></script>
<script>
(function () {
  'use strict';
  var COLORS = ['#5b6475', '#2e9e5b', '#4b7bec', '#d98e04', '#a35bd1'];
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in (attrs || {})) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) return '–';
    return Number(v).toFixed(digits === undefined ? 4 : digits);
  }
  function signed(v, digits) {
    if (v === null || v === undefined) return '–';
    return (v >= 0 ? '+' : '') + Number(v).toFixed(digits === undefined ? 4 : digits);
  }
  function ciBar(low, high, scale) {
    var box = el('span', {'class': 'ci'});
    box.appendChild(el('span', {'class': 'zero'}));
    if (scale > 0 && low !== null && high !== null) {
      var l = 50 + 50 * Math.max(-1, low / scale), h = 50 + 50 * Math.min(1, high / scale);
      var cls = low > 0 ? 'bar pos' : (high < 0 ? 'bar neg' : 'bar');
      var bar = el('span', {'class': cls});
      bar.style.left = l + '%';
      bar.style.width = Math.max(1, h - l) + '%';
      box.appendChild(bar);
    }
    return box;
  }
  function armsTable(x) {
    var t = el('table', {'class': 'arms', 'data-experiment': x.key});
    var head = el('tr');
    ['arm', 'weight', 'users', 'planned', 'searches', 'CTR', 'clicks/search', 'purchases/search',
     'zero-result', 'failed', 'NDCG@10', 'p50 ms', 'p99 ms'].forEach(function (h, i) {
      head.appendChild(el('th', i === 0 ? {'class': 'name'} : {}, h));
    });
    t.appendChild(head);
    x.arms.forEach(function (a) {
      var tr = el('tr', {'data-arm': a.name});
      var cells = [['name', a.name], ['weight', fmt(a.weight, 2)], ['users', String(a.users)],
                   ['planned', String(x.planned_users_per_arm)], ['searches', String(a.searches)],
                   ['ctr', fmt(a.ctr)], ['clicks_per_search', fmt(a.clicks_per_search)],
                   ['purchases_per_search', fmt(a.purchases_per_search)],
                   ['zero_result_rate', fmt(a.zero_result_rate)], ['error_rate', fmt(a.error_rate)],
                   ['ndcg10', fmt(a.ndcg10)],
                   ['latency_p50_ms', fmt(a.latency_p50_ms, 2)], ['latency_p99_ms', fmt(a.latency_p99_ms, 2)]];
      cells.forEach(function (c, i) {
        tr.appendChild(el('td', {'data-field': c[0], 'class': i === 0 ? 'name' : ''}, c[1]));
      });
      t.appendChild(tr);
    });
    return t;
  }
  function comparisonTable(x, c) {
    var t = el('table', {'class': 'comparison', 'data-arm': c.arm});
    var head = el('tr');
    ['metric', 'role', x.arms[0].name, c.arm, 'difference', 'lift', '95% CI', 'always-valid CI',
     '', 'p'].forEach(function (h, i) { head.appendChild(el('th', i < 2 ? {'class': 'name'} : {}, h)); });
    t.appendChild(head);
    c.metrics.forEach(function (m) {
      var tr = el('tr', {'data-metric': m.metric, 'class': m.significant ? 'sig' : ''});
      var scale = Math.max(Math.abs(m.sequential.ci_low || 0), Math.abs(m.sequential.ci_high || 0), 1e-9);
      var digits = m.metric === 'latency_p99_ms' ? 2 : 4;
      tr.appendChild(el('td', {'class': 'name'}, m.metric));
      tr.appendChild(el('td', {'class': 'name'}, m.role + (m.cuped ? ' (CUPED)' : '')));
      tr.appendChild(el('td', {}, fmt(m.fixed.control, digits)));
      tr.appendChild(el('td', {}, fmt(m.fixed.treatment, digits)));
      tr.appendChild(el('td', {'data-field': 'estimate'}, signed(m.fixed.estimate, digits)));
      tr.appendChild(el('td', {}, signed(100 * (m.fixed.lift || 0), 1) + '%'));
      tr.appendChild(el('td', {}, '[' + signed(m.fixed.ci_low, digits) + ', ' + signed(m.fixed.ci_high, digits) + ']'));
      tr.appendChild(el('td', {}, '[' + signed(m.sequential.ci_low, digits) + ', ' + signed(m.sequential.ci_high, digits) + ']'));
      var bar = el('td');
      bar.appendChild(ciBar(m.sequential.ci_low, m.sequential.ci_high, scale));
      tr.appendChild(bar);
      var p = m.role === 'secondary' ? m.holm_p : m.fixed.p;
      tr.appendChild(el('td', {}, p === null ? '–' : Number(p).toPrecision(2)));
      t.appendChild(tr);
    });
    return t;
  }
  function chart(container, title, labels, datasets) {
    var box = el('div', {'class': 'chart'});
    var canvas = el('canvas');
    box.appendChild(canvas);
    container.appendChild(box);
    if (typeof Chart === 'undefined') return 0;
    new Chart(canvas, {type: 'line', data: {labels: labels, datasets: datasets},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
                plugins: {title: {display: true, text: title}}}});
    return 1;
  }
  function render(data) {
    document.getElementById('generated').textContent =
      'computed ' + new Date(data.generated_unix_ms).toLocaleString() + ' from the server\'s impression and event log';
    var root = document.getElementById('experiments');
    root.textContent = '';
    var charts = 0;
    if (!data.experiments || data.experiments.length === 0) {
      root.appendChild(el('p', {}, 'No experiments configured (<data_dir>/experiments.textproto).'));
    }
    (data.experiments || []).forEach(function (x) {
      var sec = el('section', {'data-experiment': x.key});
      sec.appendChild(el('h2', {}, x.key + ' — ' + x.layer + ' layer, ' + x.type + (x.running ? ', running' : ', stopped')));
      sec.appendChild(el('div', {'class': 'meta'}, (x.description ? x.description + ' · ' : '') +
        'primary metric ' + x.primary_metric + ' · planned ' + x.planned_users_per_arm + ' users per arm'));
      if (x.interleaving) {
        var p = x.interleaving;
        var t = el('table', {'class': 'interleaving', 'data-experiment': x.key});
        var head = el('tr');
        ['searches', 'users', x.arms[0].name + ' wins', x.arms[1].name + ' wins', 'ties',
         'preference for ' + x.arms[0].name + ' (Δ_AB)', '95% CI (users bootstrap)', '', 'sign test p'
        ].forEach(function (h) { head.appendChild(el('th', {}, h)); });
        t.appendChild(head);
        var tr = el('tr');
        [['searches', String(p.searches)], ['users', String(p.users)], ['a_wins', String(p.a_wins)],
         ['b_wins', String(p.b_wins)], ['ties', String(p.ties)], ['delta_ab', signed(p.delta_ab)],
         ['ci', '[' + signed(p.ci_low) + ', ' + signed(p.ci_high) + ']']].forEach(function (c) {
          tr.appendChild(el('td', {'data-field': c[0]}, c[1]));
        });
        var bar = el('td');
        bar.appendChild(ciBar(p.ci_low, p.ci_high, Math.max(Math.abs(p.ci_low || 0), Math.abs(p.ci_high || 0), 1e-9)));
        tr.appendChild(bar);
        tr.appendChild(el('td', {}, p.sign_test_p === null ? '–' : Number(p.sign_test_p).toPrecision(2)));
        t.appendChild(tr);
        sec.appendChild(t);
        root.appendChild(sec);
        return;
      }
      var below = x.arms.some(function (a) { return a.below_planned; });
      if (below) sec.appendChild(el('div', {'class': 'banner warn', 'data-banner': 'below-planned'},
        'Below the planned sample: the fixed 95% intervals are not valid yet; read only the ' +
        'always-valid ones (the verdict does).'));
      sec.appendChild(el('div', {'class': 'banner ' + (x.srm.mismatch ? 'bad' : 'ok'), 'data-banner': 'srm'},
        x.srm.mismatch ? 'Sample ratio mismatch (chi2 ' + fmt(x.srm.chi2, 1) + ', p ' + Number(x.srm.p).toPrecision(2) +
                         '): the results are invalid and are not shown as a win.'
                       : 'SRM check passed (p ' + Number(x.srm.p).toPrecision(2) + ').'));
      sec.appendChild(armsTable(x));
      x.comparisons.forEach(function (c) {
        sec.appendChild(el('div', {'class': 'meta', 'data-verdict': c.verdict},
          c.arm + ' vs ' + x.arms[0].name + ': verdict ' + c.verdict));
        sec.appendChild(comparisonTable(x, c));
      });
      if (x.breakdowns && x.breakdowns.length) {
        sec.appendChild(el('div', {'class': 'meta'}, 'breakdown of ' + x.primary_metric +
          ' (exploratory: not corrected for the number of segments, not part of the verdict)'));
        var bt = el('table', {'class': 'breakdowns'});
        var bh = el('tr');
        bh.appendChild(el('th', {'class': 'name'}, 'segment'));
        x.arms.forEach(function (a) { bh.appendChild(el('th', {}, a.name + ' (users)')); });
        x.arms.forEach(function (a, i) { if (i > 0) bh.appendChild(el('th', {}, a.name + ' − ' + x.arms[0].name + ' [95% CI]')); });
        bt.appendChild(bh);
        x.breakdowns.forEach(function (b) {
          var tr = el('tr', {'data-segment': b.dimension + '=' + b.value});
          tr.appendChild(el('td', {'class': 'name'}, b.dimension + ' = ' + b.value));
          x.arms.forEach(function (a, i) { tr.appendChild(el('td', {}, fmt(b.primary[i]) + ' (' + b.users[i] + ')')); });
          x.arms.forEach(function (a, i) {
            if (i === 0) return;
            var d = b.vs_control[i];
            tr.appendChild(el('td', {}, signed(d.estimate) + ' [' + signed(d.ci_low) + ', ' + signed(d.ci_high) + ']'));
          });
          bt.appendChild(tr);
        });
        sec.appendChild(bt);
      }
      var tokenOnly = x.arms.reduce(function (s, a) { return s + (a.token_only_events || 0); }, 0);
      if (tokenOnly > 0) {
        sec.appendChild(el('div', {'class': 'banner warn'}, tokenOnly + ' events arrived for pages the log ' +
          'dropped (queue full); their arms are known from the attribution token: ' +
          x.arms.map(function (a) { return a.name + ' ' + (a.token_only_events || 0); }).join(', ') +
          '. They are not in the metrics above.'));
      }
      var box = el('div', {'class': 'charts'});
      sec.appendChild(box);
      var labels = x.timeline.map(function (p) { return new Date(p.until_ms).toLocaleTimeString(); });
      charts += chart(box, 'users per arm (cumulative)', labels, x.arms.map(function (a, i) {
        return {label: a.name, data: x.timeline.map(function (p) { return p.users[i]; }),
                borderColor: COLORS[i % COLORS.length]};
      }));
      charts += chart(box, x.primary_metric + ' per arm (cumulative)', labels, x.arms.map(function (a, i) {
        return {label: a.name, data: x.timeline.map(function (p) { return p.primary[i]; }),
                borderColor: COLORS[i % COLORS.length]};
      }));
      var bands = [];
      x.arms.forEach(function (a, i) {
        if (i === 0) return;
        bands.push({label: a.name + ' − ' + x.arms[0].name + ' (always-valid low)',
                    data: x.timeline.map(function (p) { return p.delta_low[i]; }), borderColor: COLORS[i % COLORS.length],
                    borderDash: [4, 3]});
        bands.push({label: a.name + ' − ' + x.arms[0].name + ' (high)',
                    data: x.timeline.map(function (p) { return p.delta_high[i]; }), borderColor: COLORS[i % COLORS.length]});
      });
      charts += chart(box, 'difference in ' + x.primary_metric + ' (always-valid interval)', labels, bands);
      root.appendChild(sec);
    });
    document.body.dataset.charts = String(charts);
    document.body.dataset.rendered = '1';
  }
  fetch('/experiments/api').then(function (r) { return r.json(); }).then(render).catch(function (e) {
    document.getElementById('generated').textContent = 'could not load /experiments/api: ' + e;
    throw e;
  });
})();
</script>
</body>
</html>
)HTML";
}

}  // namespace marketsearch
