/// The dashboard's one page: a table of devices and four Chart.js charts, filled from `/fleet`
/// and then kept current from `/events`. Plain HTML and JavaScript, so there is nothing to build.
enum DashboardPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>elutq fleet</title>
        <style>
          body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
          h1 { font-size: 18px; margin: 0 0 8px; }
          table { border-collapse: collapse; margin-bottom: 12px; }
          th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #ddd; }
          th:first-child, td:first-child, td.model { text-align: left; }
          .offline { color: #999; }
          .state-online { color: #080; font-weight: 600; }
          #charts { display: grid; grid-template-columns: repeat(2, minmax(300px, 1fr)); gap: 12px; }
          .chart { height: 200px; position: relative; }
          #footer { color: #777; margin-top: 8px; }
        </style>
        <script src="/chart.js"></script>
        </head>
        <body>
        <h1>elutq fleet</h1>
        <table>
          <thead><tr><th>device</th><th>state</th><th>model</th><th>group</th><th>queue</th><th>served</th><th>failed</th></tr></thead>
          <tbody id="devices"></tbody>
        </table>
        <div id="charts">
          <div class="chart"><canvas id="tokens"></canvas></div>
          <div class="chart"><canvas id="ttft"></canvas></div>
          <div class="chart"><canvas id="memory"></canvas></div>
          <div class="chart"><canvas id="queue"></canvas></div>
        </div>
        <div id="footer">last hour · <span id="events">0</span> live updates · <span id="stream">connecting</span></div>
        <script>
        "use strict";
        let window_ = 3600;
        const colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
        const devices = new Map();
        // Each chart: its title and the point fields it draws, each with a label and a scale to its unit.
        const specs = {
          tokens: { title: "tokens/s (p50)", series: [["tokens_per_second", "", 1]] },
          ttft: { title: "time to first token (ms)", series: [["ttft_p50", " p50", 1000], ["ttft_p95", " p95", 1000]] },
          memory: { title: "memory (MB)", series: [["memory", "", 1e-6]] },
          queue: { title: "queue depth", series: [["queue", "", 1]] },
        };
        const charts = {};
        for (const [id, spec] of Object.entries(specs)) {
          charts[id] = new Chart(document.getElementById(id), {
            type: "line",
            data: { datasets: [] },
            options: {
              animation: false, maintainAspectRatio: false, normalized: true, spanGaps: true,
              plugins: { title: { display: true, text: spec.title }, legend: { position: "bottom" } },
              elements: { point: { radius: 0 } },
              scales: { x: { type: "linear", ticks: { maxRotation: 0, maxTicksLimit: 6, callback: v => new Date(v * 1000).toLocaleTimeString() } }, y: { beginAtZero: true } },
            },
          });
        }

        function datasetsOf(device) {
          let entry = devices.get(device);
          if (entry) return entry.datasets;
          const color = colors[devices.size % colors.length];
          const datasets = {};
          for (const [id, spec] of Object.entries(specs)) {
            datasets[id] = spec.series.map(([field, suffix, scale], index) => {
              const dataset = { label: device + suffix, data: [], borderColor: color, borderWidth: 1.5, borderDash: index ? [4, 3] : [], field, scale };
              charts[id].data.datasets.push(dataset);
              return dataset;
            });
          }
          devices.set(device, { datasets, row: null });
          return datasets;
        }

        function addPoint(device, point) {
          for (const [id, list] of Object.entries(datasetsOf(device))) {
            for (const dataset of list) {
              const data = dataset.data;
              if (data.length && data[data.length - 1].x >= point.t) continue;
              const value = point[dataset.field];
              data.push({ x: point.t, y: value == null ? null : value * dataset.scale });
              while (data.length && point.t - data[0].x > window_) data.shift();
            }
          }
        }

        function cell(text, className) {
          const td = document.createElement("td");
          td.textContent = text == null ? "-" : text;
          if (className) td.className = className;
          return td;
        }

        function showRow(summary) {
          datasetsOf(summary.device);
          const entry = devices.get(summary.device);
          const row = document.createElement("tr");
          row.id = "device-" + summary.device;
          row.className = summary.online ? "online" : "offline";
          row.append(cell(summary.device), cell(summary.online ? "online" : "offline", summary.online ? "state-online" : ""),
                     cell(summary.model, "model"), cell(summary.group), cell(summary.queue), cell(summary.served), cell(summary.failed));
          if (entry.row) entry.row.replaceWith(row); else insertSorted(row, summary.device);
          entry.row = row;
        }

        function insertSorted(row, device) {
          const body = document.getElementById("devices");
          const after = [...body.children].find(other => other.id > "device-" + device);
          body.insertBefore(row, after || null);
        }

        function redraw() {
          for (const [id, chart] of Object.entries(charts)) {
            chart.update("none");
            chart.canvas.dataset.points = chart.data.datasets.reduce((sum, dataset) => sum + dataset.data.length, 0);
          }
        }

        fetch("/fleet").then(response => response.json()).then(fleet => {
          window_ = fleet.window;
          for (const summary of fleet.devices) {
            showRow(summary);
            for (const point of summary.history) addPoint(summary.device, point);
          }
          redraw();
          for (const chart of Object.values(charts)) chart.canvas.dataset.initialPoints = chart.canvas.dataset.points;
          const stream = new EventSource("/events");
          stream.onopen = () => { document.getElementById("stream").textContent = "live"; };
          stream.onerror = () => { document.getElementById("stream").textContent = "reconnecting"; };
          stream.onmessage = event => {
            const summary = JSON.parse(event.data);
            showRow(summary);
            if (summary.point) addPoint(summary.device, summary.point);
            redraw();
            const counter = document.getElementById("events");
            counter.textContent = Number(counter.textContent) + 1;
          };
        });
        </script>
        </body>
        </html>
        """
}
