// The bulk job page: updates the progress bar in place from the job's JSON while the job
// runs, then reloads once to show the results. Without JavaScript a <noscript> refresh
// reloads the page instead.
(function () {
  "use strict";
  var section = document.querySelector("[data-job-progress]");
  if (!section || !window.fetch) { return; }
  var url = section.getAttribute("data-job-progress");
  var bar = section.querySelector("progress");
  var text = section.querySelector("[data-progress-text]");
  var failures = 0;

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function show(job) {
    bar.max = job.total || 1;
    bar.value = job.done;
    // The words come with the figures, in the page's language (English as a fallback).
    bar.textContent = job.bar_text || (job.done + " of " + job.total);
    text.textContent = job.text || (job.done + " of " + plural(job.total, "row", "rows") +
      " done: " + job.issued + " issued, " + job.duplicates + " already had it, " +
      job.failed + " failed.");
  }

  function poll() {
    fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error(String(answer.status)); }
        return answer.json();
      })
      .then(function (job) {
        failures = 0;
        show(job);
        if (job.status === "done") { window.location.reload(); return; }
        window.setTimeout(poll, 1500);
      })
      .catch(function () {
        failures += 1;
        if (failures < 5) { window.setTimeout(poll, 3000); }
      });
  }
  window.setTimeout(poll, 1000);
})();
