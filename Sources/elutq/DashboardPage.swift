/// The dashboard's one page: fleet totals, four Chart.js charts of the devices chosen for them,
/// and a table of every device, filled from `/fleet` and `/history` and then kept current from
/// `/events`. Plain HTML and JavaScript, so there is nothing to build.
///
/// Made for a thousand devices as much as for two: rows are updated in place, the charts draw at
/// most eight devices (the first ones, or those clicked in the table), live updates redraw them at
/// most once a second, and only the charted devices' histories are fetched.
enum DashboardPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>elutq fleet</title>
        <style>
          body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
          h1 { font-size: 18px; margin: 0 0 4px; }
          #totals { color: #444; margin-bottom: 8px; }
          table { border-collapse: collapse; margin-top: 12px; }
          th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #ddd; }
          th:first-child, td:first-child, .model { text-align: left; }
          tbody tr { cursor: pointer; }
          tbody tr:hover { background: #f4f4f4; }
          td:first-child { border-left: 4px solid transparent; }
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
        <div id="totals">loading</div>
        <div id="charts">
          <div class="chart"><canvas id="tokens"></canvas></div>
          <div class="chart"><canvas id="ttft"></canvas></div>
          <div class="chart"><canvas id="memory"></canvas></div>
          <div class="chart"><canvas id="queue"></canvas></div>
        </div>
        <div id="footer">last hour · click a device to chart it or to take it off (at most 8 at once) ·
          <span id="events">0</span> live updates · <span id="stream">connecting</span></div>
        <table>
          <thead><tr><th>device</th><th>state</th><th class="model">model</th><th>group</th><th>queue</th><th>served</th><th>failed</th></tr></thead>
          <tbody id="devices"></tbody>
        </table>
        <script>
        "use strict";
        const maxCharted = 8;
        let window_ = 3600, liveUpdates = 0, chartsChanged = false, rowsChanged = false;
        const colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
        // device -> { summary, row, cells, datasets (null unless charted), color }
        const devices = new Map();
        // The charted devices, oldest first: the first to go when a ninth is clicked.
        const charted = [];
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

        // Appends a point to a charted device's lines, keeping them in time order and to the window.
        function addPoint(entry, point) {
          for (const list of Object.values(entry.datasets)) {
            for (const dataset of list) {
              const data = dataset.data;
              if (data.length && data[data.length - 1].x >= point.t) continue;
              const value = point[dataset.field];
              data.push({ x: point.t, y: value == null ? null : value * dataset.scale });
              while (data.length && point.t - data[0].x > window_) data.shift();
            }
          }
          chartsChanged = true;
        }

        // Puts a device on the charts and fetches its history; the oldest charted device makes room.
        function chart(device) {
          const entry = devices.get(device);
          if (!entry || entry.datasets) return Promise.resolve();
          if (charted.length >= maxCharted) unchart(charted[0]);
          entry.color = colors.find(color => !charted.some(other => devices.get(other).color === color));
          entry.datasets = {};
          for (const [id, spec] of Object.entries(specs)) {
            entry.datasets[id] = spec.series.map(([field, suffix, scale], index) => {
              const dataset = { label: device + suffix, data: [], borderColor: entry.color, backgroundColor: entry.color,
                                borderWidth: 1.5, borderDash: index ? [4, 3] : [], field, scale };
              charts[id].data.datasets.push(dataset);
              return dataset;
            });
          }
          charted.push(device);
          entry.cells[0].style.borderLeftColor = entry.color;
          chartsChanged = true;
          return fetch("/history?device=" + encodeURIComponent(device)).then(response => response.json()).then(history => {
            if (entry.datasets == null) return;
            // Live points may have come first: the history goes before them. Into new arrays:
            // emptying a drawn array in place and refilling it made Chart.js throw.
            const live = Object.values(entry.datasets).flat().map(dataset => [dataset, dataset.data]);
            for (const [dataset] of live) dataset.data = [];
            for (const point of history.points) addPoint(entry, point);
            for (const [dataset, points] of live) {
              const last = dataset.data.length ? dataset.data[dataset.data.length - 1].x : -Infinity;
              dataset.data = dataset.data.concat(points.filter(point => point.x > last));
            }
          }).catch(() => { document.getElementById("stream").textContent = "history of " + device + " not loaded"; });
        }

        function unchart(device) {
          const entry = devices.get(device);
          for (const [id, list] of Object.entries(entry.datasets)) {
            charts[id].data.datasets = charts[id].data.datasets.filter(dataset => !list.includes(dataset));
          }
          entry.datasets = null;
          entry.cells[0].style.borderLeftColor = "";
          charted.splice(charted.indexOf(device), 1);
          chartsChanged = true;
        }

        // Creates or updates a device's row in place, touching only the cells that changed.
        function showRow(summary) {
          let entry = devices.get(summary.device);
          if (!entry) {
            const row = document.createElement("tr");
            row.id = "device-" + summary.device;
            row.dataset.device = summary.device;
            const cells = Array.from({ length: 7 }, () => row.appendChild(document.createElement("td")));
            cells[2].className = "model";
            entry = { row, cells, datasets: null, color: null };
            devices.set(summary.device, entry);
            insertSorted(row, summary.device);
          }
          entry.summary = summary;
          const values = [summary.device, summary.online ? "online" : "offline", summary.model, summary.group,
                          summary.queue, summary.served, summary.failed];
          values.forEach((value, index) => {
            const text = value == null ? "-" : String(value);
            if (entry.cells[index].textContent !== text) entry.cells[index].textContent = text;
          });
          entry.row.className = summary.online ? "online" : "offline";
          entry.cells[1].className = summary.online ? "state-online" : "";
          rowsChanged = true;
          return entry;
        }

        // Rows stay sorted by device; /fleet sends them sorted, so the end is the usual place.
        function insertSorted(row, device) {
          const body = document.getElementById("devices");
          const last = body.lastElementChild;
          if (!last || last.dataset.device < device) { body.appendChild(row); return; }
          const after = [...body.children].find(other => other.dataset.device > device);
          body.insertBefore(row, after || null);
        }

        // At most once a second: the charts and the totals, however many updates came.
        function redraw() {
          if (chartsChanged) {
            for (const chart of Object.values(charts)) {
              chart.update("none");
              chart.canvas.dataset.points = chart.data.datasets.reduce((sum, dataset) => sum + dataset.data.length, 0);
            }
            chartsChanged = false;
          }
          if (rowsChanged) {
            let online = 0, served = 0, failed = 0;
            for (const { summary } of devices.values()) {
              if (summary.online) online += 1;
              served += summary.served || 0;
              failed += summary.failed || 0;
            }
            document.getElementById("totals").textContent =
              `${devices.size} devices · ${online} online · ${served} requests served · ${failed} failed`;
            rowsChanged = false;
          }
          document.getElementById("events").textContent = liveUpdates;
        }

        document.getElementById("devices").addEventListener("click", event => {
          const row = event.target.closest("tr");
          if (!row) return;
          const device = row.dataset.device;
          (devices.get(device).datasets ? Promise.resolve(unchart(device)) : chart(device)).then(redraw);
        });

        fetch("/fleet").then(response => response.json()).then(fleet => {
          window_ = fleet.window;
          for (const summary of fleet.devices) showRow(summary);
          return Promise.all(fleet.devices.slice(0, maxCharted).map(summary => chart(summary.device)));
        }).then(() => {
          chartsChanged = true;
          redraw();
          for (const chart of Object.values(charts)) chart.canvas.dataset.initialPoints = chart.canvas.dataset.points;
          document.body.dataset.loadedMs = Math.round(performance.now());
          setInterval(redraw, 1000);
          const stream = new EventSource("/events");
          stream.onopen = () => { document.getElementById("stream").textContent = "live"; };
          stream.onerror = () => { document.getElementById("stream").textContent = "reconnecting"; };
          stream.onmessage = event => {
            const summary = JSON.parse(event.data);
            const entry = showRow(summary);
            if (entry.datasets && summary.point) addPoint(entry, summary.point);
            liveUpdates += 1;
          };
        });
        </script>
        </body>
        </html>
        """
}
