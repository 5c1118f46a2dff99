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

  // The words are the page's, in its language (data-words-*, with {name} for a figure).
  var language = document.documentElement.lang || "en";
  function words(name) { return section.getAttribute("data-words-" + name) || ""; }
  function fill(template, job) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return Number(job[key] || 0).toLocaleString(language);
    });
  }

  function show(job) {
    bar.max = job.total || 1;
    bar.value = job.done;
    bar.textContent = fill(words("bar"), job);
    text.textContent = fill(words(job.total === 1 ? "row" : "rows"), job) + " " +
      fill(words("tally"), job);
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
