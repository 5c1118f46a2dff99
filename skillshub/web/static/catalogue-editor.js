// The catalogue editor, enhanced: ESCO skills searched as you type (the public search API),
// learning outcomes added and removed in place, and a live preview of the badge image.
// Without this script every part works through the form's own submit buttons.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  var counter = 0;

  // The page's words, in its language (the hidden #editor-words element, {name} for a value).
  var words = (document.getElementById("editor-words") || { dataset: {} }).dataset;
  function word(name, fallback, values) {
    var template = words["word" + name.charAt(0).toUpperCase() + name.slice(1)] || fallback;
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function chosenListOf(box) {
    var scope = box.closest("[data-outcome]") || box.closest("fieldset");
    return scope.querySelector("[data-chosen]");
  }

  function setupSearch(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    var input = box.querySelector("[data-skill-query]");
    var status = box.querySelector("[data-skill-hits]");
    var find = box.querySelector("[data-skill-find]");
    var levels = box.dataset.levels ? box.dataset.levels.split(" ") : null;
    var list = document.createElement("ul");
    counter += 1;
    list.id = "skill-suggestions-" + counter;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", word("matching", "Matching skills", {}));
    list.hidden = true;
    input.parentNode.after(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var items = [];
    var active = -1;
    var asked = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function say(text) {
      status.textContent = "";
      var p = document.createElement("p");
      p.className = "hint";
      p.textContent = text;
      status.appendChild(p);
    }

    function render() {
      list.textContent = "";
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = item.title;
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(item);
        });
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", String(!list.hidden));
      say(items.length
        ? word(items.length === 1 ? "foundOne" : "foundMany",
               "{n} skills found: use the arrow keys and Enter to add one.", { n: items.length })
        : word("none", "No skill matches “{query}”.", { query: input.value.trim() }));
    }

    function run() {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      var mine = ++asked;
      fetch("/api/v1/search?kind=skill&per_page=8&q=" + encodeURIComponent(q),
            { headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || mine !== asked) return;
          items = data.items || [];
          active = -1;
          render();
        })
        .catch(function () { say(word("failed", "The search did not answer: use the Find skills button.", {})); });
    }

    function move(step) {
      if (!items.length) return;
      active = (active + step + items.length) % items.length;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", String(i === active));
      });
      input.setAttribute("aria-activedescendant", list.id + "-" + active);
    }

    function choose(item) {
      var chosen = chosenListOf(box);
      var name = box.dataset.name;
      var exists = Array.prototype.some.call(chosen.querySelectorAll("input[type=checkbox]"),
        function (c) { return c.value === item.slug; });
      if (!exists) {
        var li = document.createElement("li");
        var label = document.createElement("label");
        var check = document.createElement("input");
        check.type = "checkbox";
        check.name = name;
        check.value = item.slug;
        check.checked = true;
        label.appendChild(check);
        label.appendChild(document.createTextNode(" " + item.title));
        li.appendChild(label);
        if (levels) {
          counter += 1;
          var id = "skill-level-" + counter;
          var hidden = document.createElement("label");
          hidden.className = "visually-hidden";
          hidden.htmlFor = id;
          hidden.textContent = word("levelOf", "Level of {title}", { title: item.title });
          var select = document.createElement("select");
          select.id = id;
          select.name = "skill_level." + item.slug;
          select.className = "small-select";
          levels.forEach(function (level) {
            var option = document.createElement("option");
            option.value = level;
            option.textContent = word("level" + level.charAt(0).toUpperCase() + level.slice(1),
                                      level, {});
            option.selected = level === "practitioner";
            select.appendChild(option);
          });
          li.appendChild(document.createTextNode(" "));
          li.appendChild(hidden);
          li.appendChild(select);
        }
        chosen.appendChild(li);
        var none = chosen.parentNode.querySelector("[data-none]");
        if (none) none.hidden = true;
      }
      input.value = "";
      close();
      say(item.title + (exists ? " was chosen already." : " added."));
      input.focus();
    }

    input.addEventListener("input", debounce(run, 200));
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Enter") {
        event.preventDefault();  // never submits the whole form from the search box
        if (active >= 0) choose(items[active]); else run();
      } else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    if (find) {
      find.addEventListener("click", function (event) {
        event.preventDefault();
        run();
      });
    }
  }

  // --- learning outcomes in place ---------------------------------------------------------------

  var ROW_NAME = /learning_outcomes([.-])\d+/g;

  function renumber(list) {
    var rows = list.querySelectorAll("[data-outcome]");
    rows.forEach(function (row, i) {
      var n = String(i + 1);
      row.dataset.outcome = n;
      row.querySelectorAll("*").forEach(function (el) {
        ["name", "id", "for", "aria-describedby", "aria-labelledby", "value"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v && (attr !== "value" || el.tagName === "BUTTON")) {
            el.setAttribute(attr, v.replace(ROW_NAME, "learning_outcomes$1" + n)
              .replace(/^(find|remove_outcome):\d+$/, "$1:" + n));
          }
        });
      });
      var label = row.querySelector("label[for$='-text']");
      if (label) label.textContent = word("outcome", "Learning outcome {n}", { n: n });
      var remove = row.querySelector("[data-remove-outcome]");
      if (remove) {
        remove.textContent = word("removeOutcome", "Remove learning outcome {n}", { n: n });
        remove.hidden = rows.length < 2;
      }
    });
  }

  function setupOutcomes(form) {
    var list = form.querySelector("[data-outcomes]");
    var add = form.querySelector("[data-add-outcome]");
    if (!list || !add) return;
    function wireRemove(row) {
      var remove = row.querySelector("[data-remove-outcome]");
      if (!remove) {
        remove = document.createElement("button");
        remove.type = "submit";
        remove.name = "action";
        remove.value = "remove_outcome:" + row.dataset.outcome;
        remove.className = "secondary small";
        remove.setAttribute("data-remove-outcome", "");
        row.appendChild(remove);
      }
      remove.addEventListener("click", function (event) {
        event.preventDefault();
        var previous = row.previousElementSibling || row.nextElementSibling;
        row.remove();
        renumber(list);
        if (previous) previous.querySelector("textarea").focus();
      });
    }
    list.querySelectorAll("[data-outcome]").forEach(wireRemove);
    renumber(list);
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var last = list.querySelector("[data-outcome]:last-child");
      var row = last.cloneNode(true);
      row.querySelectorAll("textarea, input[type=search]").forEach(function (el) { el.value = ""; });
      row.querySelectorAll("[data-chosen]").forEach(function (el) { el.textContent = ""; });
      row.querySelectorAll(".suggestions, .field-error").forEach(function (el) { el.remove(); });
      row.querySelectorAll("[data-skill-hits]").forEach(function (el) { el.textContent = ""; });
      row.querySelectorAll("[data-none]").forEach(function (el) { el.hidden = false; });
      row.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
      row.querySelectorAll("[data-ready]").forEach(function (el) { delete el.dataset.ready; });
      row.querySelectorAll("[role=combobox]").forEach(function (el) {
        ["role", "aria-autocomplete", "aria-expanded", "aria-controls"].forEach(function (a) { el.removeAttribute(a); });
      });
      list.appendChild(row);
      renumber(list);
      wireRemove(row);
      row.querySelectorAll("[data-skill-search]").forEach(setupSearch);
      renumber(list);
      row.querySelector("textarea").focus();
    });
  }

  // --- the badge image ---------------------------------------------------------------------------

  function setupPreview(form) {
    var input = form.querySelector("[data-badge-input]");
    var image = document.getElementById("badge-preview");
    if (!input || !image) return;
    var title = form.querySelector("[name=title]");
    var url = null;
    var showsDefault = image.src.indexOf("badge-preview.png") !== -1;
    input.addEventListener("change", function () {
      if (url) URL.revokeObjectURL(url);
      url = null;
      var file = input.files && input.files[0];
      if (file) {
        url = URL.createObjectURL(file);
        image.src = url;
        image.alt = word("preview", "Preview of the chosen image {name}", { name: file.name });
        showsDefault = false;
      } else {
        image.src = image.dataset.defaultSrc + "?title=" + encodeURIComponent(title ? title.value : "");
        showsDefault = true;
      }
    });
    if (title) {
      title.addEventListener("input", debounce(function () {
        if (showsDefault) {
          image.src = image.dataset.defaultSrc + "?title=" + encodeURIComponent(title.value);
        }
      }, 500));
    }
  }

  document.querySelectorAll("form.editor").forEach(function (form) {
    form.querySelectorAll("[data-skill-search]").forEach(setupSearch);
    setupOutcomes(form);
    setupPreview(form);
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
