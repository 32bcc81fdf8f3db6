/*
 * Status pages of user_tasks: live progress and confirmation dialogs.
 *
 * The pages work without this script; it only
 *  - listens to the live feed when the server offers it ([data-events-url], Server-Sent Events):
 *    a progress event carries the task's state and steps, which are drawn at once without asking
 *    the server (unless a time left is on show, which only the server words); any
 *    other event about a task on the page (or inside one) asks for its figures once, as a poll
 *    would, and nothing is asked while nothing happens; if the feed fails (a server restarting,
 *    a WSGI server), the page polls until it reconnects, then reads every task once again;
 *  - otherwise polls for each unfinished task on the page ([data-user-task]): a task's page asks its own
 *    live URL ([data-live-url]) about the task and every task listed inside it, a row of the
 *    list asks the REST API ([data-api-url]); with conditional requests (If-None-Match),
 *    backing off while nothing changes and stopping once the task is finished;
 *  - updates in place the state, bar and time left of the task and of the tasks inside it
 *    ([data-ut-member], by uuid);
 *  - when a task finishes or gains output, a task inside it is not on the page yet, or a total
 *    of steps changed (the sentences about steps take its plural form), swaps in its freshly
 *    rendered HTML from the page itself, so the output, buttons and texts read exactly as
 *    after a reload;
 *  - shows times in the reader's time zone and locale;
 *  - asks before a form marked data-confirm is sent, once (the second click of a double-click
 *    and a form sent already are ignored), and marks it confirmed so the server does not ask
 *    again on a page of its own.
 */
(function () {
  "use strict";

  var FASTEST = 1000; // ms between polls while the task changes
  var SLOWEST = 15000; // ms between polls after a long time without change
  var BACKOFF = 1.6; // growth of the interval after each unchanged answer

  var REOPEN = 5000; // ms before opening a failed feed again
  // ms after progress drawn from an event on a task without an estimate before asking for one
  var TIME_LEFT_AFTER = 2000;

  var root = document.querySelector(".user-tasks");
  var eventsUrl = root && root.dataset.eventsUrl;
  var feedLive = false; // true while the feed is open: watched tasks then wait for its events
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

  /* The element's own part marked data-ut="name", not one of a task listed inside it. */
  function part(element, name) {
    var found = element.querySelectorAll('[data-ut="' + name + '"]');
    for (var i = 0; i < found.length; i++) {
      var member = found[i].closest("[data-ut-member]");
      if (!member || member === element) return found[i];
    }
    return null;
  }

  /* Show the task's figures; false if its sentences need the page again (see data-total). */
  function render(element, task) {
    var percent = Math.floor(task.progress);
    var values = { percent: percent, completed: task.completed_steps, total: task.total_steps };
    var current = true;
    var state = part(element, "state");
    if (state) {
      state.textContent = task.state_text;
      state.dataset.state = task.state;
    }
    var bar = part(element, "bar");
    if (bar) {
      // The sentences about steps were translated in the plural form of the total the page showed.
      current = !bar.dataset.total || bar.dataset.total === String(task.total_steps);
      bar.setAttribute("aria-valuenow", String(percent));
      bar.dataset.state = task.state;
      if (current && bar.dataset.valuetext) bar.setAttribute("aria-valuetext", fill(bar.dataset.valuetext, values));
      var barFill = bar.querySelector('[data-ut="fill"]');
      if (barFill) barFill.style.width = task.progress + "%";
      var text = bar.parentElement;
      var percentText = text.querySelector('[data-ut="percent"]');
      if (percentText && bar.dataset.percentText) percentText.textContent = fill(bar.dataset.percentText, values);
      var steps = text.querySelector('[data-ut="steps"]');
      if (current && steps && bar.dataset.stepsText) steps.textContent = fill(bar.dataset.stepsText, values);
      // The estimate comes worded by the server, in the reader's language ("about 2 minutes left").
      var left = text.querySelector('[data-ut="time-left"]');
      if (left && "time_left_text" in task) {
        left.textContent = task.time_left_text || "";
        left.parentElement.hidden = !task.time_left_text;
      }
    }
    var modified = part(element, "modified");
    if (modified && task.modified) {
      modified.setAttribute("datetime", task.modified);
      modified.textContent = dateFormat.format(new Date(task.modified));
    }
    return current;
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

  /* Render the tasks inside in place: whether each is on the page (shown), and rendered in full (current). */
  function renderInside(element, tasks) {
    var result = { shown: true, current: true };
    tasks.forEach(function (task) {
      var member = element.querySelector('[data-ut-member="' + task.uuid + '"]');
      if (!member) result.shown = false;
      else if (!render(member, task)) result.current = false;
    });
    return result;
  }

  function watch(element) {
    var url = element.dataset.liveUrl || element.dataset.apiUrl;
    if (!url || element.dataset.utWatched) return;
    element.dataset.utWatched = "1";
    var etag = null;
    var delay = FASTEST;
    var artifacts = null;
    // How many tasks inside the last answer listed (kept across refreshes): more is a reason to
    // refresh, as is, in the first answer for a page, one that the page does not show.
    var members = element.dataset.utMembers ? Number(element.dataset.utMembers) : null;

    var polling = false; // a request is on its way
    var again = false; // an event came meanwhile: ask once more after it

    function later() {
      if (!feedLive) window.setTimeout(timed, delay);
    }

    function timed() {
      if (!feedLive) poll();
    }

    /* An event about this task (or one inside it): ask now, once. */
    element.utPoke = function () {
      if (polling) again = true;
      else poll();
    };

    /*
     * Progress drawn from an event: an estimate of the time left on show is out of date, and only
     * the server words it, so the task is read (one request at a time, as any event's); with no
     * estimate on show, the task is read once TIME_LEFT_AFTER later, in case one appeared.
     */
    var timeLeftDue = null;
    element.utDrawn = function () {
      var left = element.querySelector('[data-ut="time-left"]');
      if (!left) return;
      if (!left.parentElement.hidden) return element.utPoke();
      if (timeLeftDue !== null) return;
      timeLeftDue = window.setTimeout(function () {
        timeLeftDue = null;
        element.utPoke();
      }, TIME_LEFT_AFTER);
    };

    function slower() {
      delay = Math.min(delay * BACKOFF, SLOWEST);
      later();
    }

    function settled() {
      polling = false;
      if (again) {
        again = false;
        poll();
      }
    }

    function poll() {
      if (!element.isConnected) return;
      if (document.hidden && !feedLive) return slower();
      polling = true;
      var headers = { Accept: "application/json" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 304) return slower();
          if (!response.ok) return; // gone or forbidden: a reload shows why
          etag = response.headers.get("ETag");
          return response.json().then(function (task) {
            var inside = task.inside || [];
            var current = render(element, task);
            var rendered = renderInside(element, inside);
            delay = FASTEST;
            var finished = finalStates.indexOf(task.state) !== -1;
            // The live URL counts the output of the tasks inside too; the REST API lists the task's own.
            var output = "output" in task ? task.output : task.artifacts.length;
            var gotOutput = artifacts !== null && output !== artifacts;
            artifacts = output;
            var grew = members === null ? !rendered.shown : inside.length > members;
            members = inside.length;
            var stale = !current || !rendered.current;
            if (finished || gotOutput || grew || stale) {
              return refresh(element).then(function (fresh) {
                if (fresh) fresh.dataset.utMembers = String(members);
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
        })
        .then(settled, settled);
    }

    later();
  }

  /* A page the browser brings back (Back button) lets its forms be sent again. */
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-ut-sent]").forEach(function (form) {
      delete form.dataset.utSent;
    });
  });

  /* Every watched task whose figures an event about ``uuid`` may change (itself, or the task it is inside). */
  function pokeAbout(uuid) {
    document.querySelectorAll("[data-user-task]").forEach(function (element) {
      var concerned =
        uuid === null ||
        element.dataset.utUuid === uuid ||
        element.querySelector('[data-ut-member="' + uuid + '"]') !== null;
      if (concerned && element.utPoke) element.utPoke();
    });
  }

  /* Percent of the steps done, as the server computes it: to a tenth, rounded down, below 100 until success. */
  function percentOf(completed, total) {
    if (!total) return 0;
    return Math.min(Math.floor((completed * 1000) / total) / 10, 99.9);
  }

  /*
   * Draw a progress event's figures on the task it is about, wherever the page shows it (itself,
   * or inside a watched task); a task the event cannot be drawn on (its state changed, or its
   * total, whose sentences need the page again) asks the server, as other events do.
   */
  function drawProgress(data) {
    document.querySelectorAll("[data-user-task]").forEach(function (element) {
      var target =
        element.dataset.utUuid === data.status ? element : element.querySelector('[data-ut-member="' + data.status + '"]');
      if (!target || !element.utPoke) return;
      var state = part(target, "state");
      var drawable = state && state.dataset.state === data.state && "completed_steps" in data && "total_steps" in data;
      var task = drawable && {
        state: data.state,
        state_text: state.textContent,
        completed_steps: data.completed_steps,
        total_steps: data.total_steps,
        progress: percentOf(data.completed_steps, data.total_steps),
        modified: data.modified,
      };
      if (task && render(target, task)) element.utDrawn();
      else element.utPoke();
    });
  }

  /* One feed for the page; the browser resumes it with Last-Event-ID after a short drop. */
  function listen() {
    var source = new EventSource(eventsUrl, { withCredentials: true });
    var opened = false;
    source.onopen = function () {
      // After a failure events may have been missed: every task reads its figures once.
      if (opened || !feedLive) pokeAbout(null);
      opened = true;
      feedLive = true;
      if (root) root.dataset.utFeed = "open";
    };
    ["created", "started", "progress", "state", "renamed", "artifact", "message", "deleted", "reset"].forEach(function (kind) {
      source.addEventListener(kind, function (event) {
        var data = JSON.parse(event.data);
        if (kind === "progress") drawProgress(data);
        else pokeAbout(kind === "reset" ? null : data.status);
      });
    });
    source.onerror = function () {
      if (feedLive) {
        // Dropped: poll meanwhile, so the page keeps moving while the server is away.
        feedLive = false;
        if (root) root.dataset.utFeed = "polling";
        pokeAbout(null);
      }
      // The browser retries a dropped connection itself, but gives up on an error answer.
      if (source.readyState === EventSource.CLOSED) window.setTimeout(listen, REOPEN);
    };
  }

  if (root) localizeTimes(root);
  if (eventsUrl && window.EventSource) {
    feedLive = true; // until it fails: a poll timer would only duplicate its events
    listen();
  }
  document.querySelectorAll("[data-user-task]").forEach(watch);

  /* The second click of a double-click sends nothing: the first one asked already (and, if the
     answer was yes, sent the form). */
  document.addEventListener("click", function (event) {
    if (event.detail < 2 || !(event.target instanceof Element)) return;
    var button = event.target.closest("button, input[type=submit]");
    if (button && button.form && button.form.dataset.confirm) event.preventDefault();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    // Sent already, the next page is on its way: asking again would send it twice.
    if (form.dataset.utSent) {
      event.preventDefault();
      return;
    }
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    form.dataset.utSent = "1";
    if (!form.querySelector('input[name="confirmed"]')) {
      var confirmed = document.createElement("input");
      confirmed.type = "hidden";
      confirmed.name = "confirmed";
      confirmed.value = "1";
      form.appendChild(confirmed);
    }
  });
})();
