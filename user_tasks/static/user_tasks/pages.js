/*
 * Status pages of user_tasks: live progress and confirmation dialogs.
 *
 * The pages work without this script; it only
 *  - polls the REST API for each unfinished task on the page ([data-user-task][data-api-url]),
 *    with conditional requests (If-None-Match), backing off while nothing changes and
 *    stopping once the task is finished;
 *  - when a task finishes or gains output, swaps in its freshly rendered HTML from the page
 *    itself, so the output, buttons and times read exactly as after a reload;
 *  - shows times in the reader's time zone and locale;
 *  - asks before a form marked data-confirm is sent, and marks it confirmed so the server
 *    does not ask again on a page of its own.
 */
(function () {
  "use strict";

  var FASTEST = 1000; // ms between polls while the task changes
  var SLOWEST = 15000; // ms between polls after a long time without change
  var BACKOFF = 1.6; // growth of the interval after each unchanged answer

  var root = document.querySelector(".user-tasks");
  var finalStates = ((root && root.dataset.finalStates) || "Succeeded|Failed|Canceled").split("|");
  var dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    dateStyle: "medium",
    timeStyle: "medium",
  });

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, name) {
      return name in values ? String(values[name]) : match;
    });
  }

  /* Times in the reader's own time zone and format, the same before and after live updates. */
  function localizeTimes(scope) {
    scope.querySelectorAll("time[datetime]").forEach(function (time) {
      var moment = new Date(time.getAttribute("datetime"));
      if (!isNaN(moment.getTime())) time.textContent = dateFormat.format(moment);
    });
  }

  function render(element, task) {
    var percent = Math.floor(task.progress);
    var values = { percent: percent, completed: task.completed_steps, total: task.total_steps };
    var state = element.querySelector('[data-ut="state"]');
    if (state) {
      state.textContent = task.state_text;
      state.dataset.state = task.state;
    }
    var bar = element.querySelector('[data-ut="bar"]');
    if (bar) {
      bar.setAttribute("aria-valuenow", String(percent));
      bar.dataset.state = task.state;
      if (bar.dataset.valuetext) bar.setAttribute("aria-valuetext", fill(bar.dataset.valuetext, values));
      var barFill = bar.querySelector('[data-ut="fill"]');
      if (barFill) barFill.style.width = task.progress + "%";
      var text = bar.parentElement;
      var percentText = text.querySelector('[data-ut="percent"]');
      if (percentText) percentText.textContent = percent + " %";
      var steps = text.querySelector('[data-ut="steps"]');
      if (steps && bar.dataset.stepsText) steps.textContent = fill(bar.dataset.stepsText, values);
    }
    var modified = element.querySelector('[data-ut="modified"]');
    if (modified && task.modified) {
      modified.setAttribute("datetime", task.modified);
      modified.textContent = dateFormat.format(new Date(task.modified));
    }
  }

  /* Replace the element with its current server-rendered form; resolves to the new element. */
  function refresh(element) {
    return fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(element.id);
        if (!fresh) return null;
        var adopted = document.importNode(fresh, true);
        localizeTimes(adopted);
        element.replaceWith(adopted);
        return adopted;
      });
  }

  function watch(element) {
    var url = element.dataset.apiUrl;
    if (!url || element.dataset.utWatched) return;
    element.dataset.utWatched = "1";
    var etag = null;
    var delay = FASTEST;
    var artifacts = null;

    function later() {
      window.setTimeout(poll, delay);
    }

    function slower() {
      delay = Math.min(delay * BACKOFF, SLOWEST);
      later();
    }

    function poll() {
      if (!element.isConnected) return;
      if (document.hidden) return slower();
      var headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 304) return slower();
          if (!response.ok) return; // gone or forbidden: a reload shows why
          etag = response.headers.get("ETag");
          return response.json().then(function (task) {
            render(element, task);
            delay = FASTEST;
            var finished = finalStates.indexOf(task.state) !== -1;
            var gotOutput = artifacts !== null && task.artifacts.length !== artifacts;
            artifacts = task.artifacts.length;
            if (finished || gotOutput) {
              return refresh(element).then(function (fresh) {
                if (fresh && !finished) watch(fresh);
                else if (!fresh && !finished) later();
              });
            }
            later();
          });
        })
        .catch(function () {
          etag = null; // ask for the whole answer again, so a failed refresh is retried
          slower();
        });
    }

    later();
  }

  if (root) localizeTimes(root);
  document.querySelectorAll("[data-user-task]").forEach(watch);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (!form.querySelector('input[name="confirmed"]')) {
      var confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "1";
      form.appendChild(confirmed);
    }
  });
})();
