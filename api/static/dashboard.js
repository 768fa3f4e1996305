// The figures page's charts (api/web/dashboard.py): ECharts from /vendor/echarts/, the numbers
// from the page's JSON (#dashboard-data). The tables under the charts carry the same numbers for
// readers without JavaScript. Tooltips draw on the canvas (renderMode richText): HTML tooltips
// would need inline styles, which the page's CSP refuses.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var figures = {};
  data.figures.forEach(function (f) { figures[f.key] = f; });
  var RATES = ["dropout_rate", "return_rate", "retention_rate", "disabled_placement_rate"];
  var tooltip = { trigger: "axis", renderMode: "richText" };
  var grid = { left: 48, right: 16, top: 36, bottom: 48, containLabel: true };

  function bar(names, values, unit) {
    return {
      tooltip: tooltip, grid: grid,
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } },
      yAxis: { type: "value", name: unit, minInterval: unit === "%" ? 0 : 1, max: unit === "%" ? 100 : null },
      series: [{ type: "bar", data: values, label: { show: true, position: "top" } }]
    };
  }

  function lines(names, series, unit) {
    return {
      tooltip: tooltip, grid: grid, legend: { top: 0 },
      xAxis: { type: "category", data: names },
      yAxis: { type: "value", name: unit, max: 100 },
      series: series.map(function (s) { return { type: "line", name: s.name, data: s.data, connectNulls: false }; })
    };
  }

  function returnDays(days) {
    var buckets = [["0–7天", 0, 7], ["8–14天", 8, 14], ["15–30天", 15, 30], ["31–60天", 31, 60], ["60天以上", 61, Infinity]];
    return bar(buckets.map(function (b) { return b[0]; }), buckets.map(function (b) {
      return days.filter(function (d) { return d >= b[1] && d <= b[2]; }).length;
    }), "人");
  }

  var options = {
    rates: function () {
      return bar(RATES.map(function (k) { return figures[k].label_zh; }), RATES.map(function (k) { return figures[k].value; }), "%");
    },
    by_unit: function () {
      var option = bar(data.by_unit.map(function (u) { return u.name; }), [], "%");
      option.legend = { top: 0 };
      option.series = RATES.map(function (k) {
        return { type: "bar", name: figures[k].label_zh, data: data.by_unit.map(function (u) { return u.figures[k].value; }) };
      });
      return option;
    },
    trend: function () {
      return lines(data.trend.map(function (t) { return t.month; }), [
        { name: "辍学率", data: data.trend.map(function (t) { return t.dropout_rate.value; }) },
        { name: "劝返率", data: data.trend.map(function (t) { return t.return_rate.value; }) },
        { name: "90日内再次辍学率", data: data.trend.map(function (t) { return t.redropout_90d.value; }) }
      ], "%");
    },
    tiers: function () {
      var tiers = figures.open_cases.by_tier;
      return bar(tiers.map(function (t) { return t.label_zh; }), tiers.map(function (t) { return t.count; }), "件");
    },
    ages: function () {
      var ages = figures.open_cases.by_age;
      return bar(ages.map(function (a) { return a.age + "岁"; }), ages.map(function (a) { return a.count; }), "件");
    },
    overdue: function () {
      var units = figures.overdue_tasks.by_unit;
      return bar(units.map(function (u) { return u.name; }), units.map(function (u) { return u.count; }), "件");
    },
    returns: function () { return returnDays(figures.median_days_to_return.days || []); }
  };

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var build = options[el.getAttribute("data-chart")];
    if (!build) { return; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(build());
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
}());
