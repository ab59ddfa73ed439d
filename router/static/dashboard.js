// Draws each panel of a /dashboards page from the JSON the page carries (no inline script: the
// page's content security policy runs scripts from the router only).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const panels = JSON.parse(document.getElementById("panel-data").textContent);
  document.querySelectorAll(".plot[data-panel]").forEach((element) => {
    const panel = panels[Number(element.dataset.panel)];
    const traces = panel.series.map((series) => ({
      type: "scatter",
      mode: "lines",
      name: series.name,
      x: series.x,
      y: series.y,
      line: { width: 1.6 },
      hovertemplate: "%{y}<extra>%{fullData.name}</extra>",
    }));
    const layout = {
      margin: { l: 60, r: 10, t: 6, b: 36 },
      xaxis: { type: "date", showgrid: false },
      yaxis: Object.assign({ rangemode: "tozero", gridcolor: "#eef0f3" }, panel.axis),
      legend: { orientation: "h", y: -0.18, font: { size: 11 } },
      showlegend: traces.length > 1,
      font: { family: "system-ui, sans-serif", size: 11, color: "#1d2330" },
      paper_bgcolor: "#fff",
      plot_bgcolor: "#fff",
    };
    Plotly.newPlot(element, traces, layout, { displaylogo: false, responsive: true });
  });
  document.body.dataset.drawn = "true";
});
