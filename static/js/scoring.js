/* The scoring form (templates/assessments/assessment.html), with JavaScript:
 * - "All yes" / "All no" buttons set a village grid's column or row, or every yes/no condition
 *   of the commune, at once;
 * - saving one indicator posts its form with fetch() and swaps in the re-rendered section, the
 *   summary and the actions, so that what is typed in the other indicators stays;
 * - the summary marks the indicators with changes not saved yet and offers to save them all;
 * - leaving the page with changes not saved asks first.
 * Without JavaScript the page is plain forms: one save per indicator, the page reloads.
 * No inline script or style: the page works under a strict Content Security Policy. */
(function () {
  "use strict";

  var SECTION_FORMS = "form[data-section-form]";
  var leavingWith = null;  // the section form being posted the plain way, if any

  function reveal(root) {
    root.querySelectorAll("[data-js-only]").forEach(function (element) {
      element.hidden = false;
    });
  }

  function attributeIs(name, value) {
    return "[" + name + '="' + String(value).replace(/["\\]/g, "\\$&") + '"]';
  }

  function changed(input) {
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fill(button) {
    var form = button.closest("form");
    var value = button.getAttribute("data-fill");
    if (button.hasAttribute("data-fill-conditions")) {
      form.querySelectorAll('fieldset[data-conditions] input[type="radio"]').forEach(function (radio) {
        if (radio.value === value && !radio.checked) {
          radio.checked = true;
          changed(radio);
        }
      });
      return;
    }
    var cells = button.hasAttribute("data-fill-condition")
      ? "td" + attributeIs("data-condition", button.getAttribute("data-fill-condition")) + " select"
      : "tr" + attributeIs("data-village", button.getAttribute("data-fill-village")) + " select";
    form.querySelectorAll(cells).forEach(function (select) {
      if (select.value !== value) {
        select.value = value;
        changed(select);
      }
    });
  }

  // ------------------------------------------------------------ changes not saved yet

  function summary() {
    return document.querySelector('[data-live="summary"]');
  }

  function showUnsaved() {
    var box = summary();
    if (!box) { return; }
    var label = box.getAttribute("data-unsaved");
    var any = false;
    box.querySelectorAll("[data-summary-code]").forEach(function (chip) {
      var form = document.querySelector(SECTION_FORMS + attributeIs("data-section-form", chip.getAttribute("data-summary-code")));
      var dirty = Boolean(form && form.hasAttribute("data-dirty"));
      any = any || dirty;
      chip.classList.toggle("is-unsaved", dirty);
      var mark = chip.querySelector(".summary-unsaved");
      if (mark) {
        mark.hidden = !dirty;
        mark.textContent = dirty ? " · " + label : "";
      }
    });
    var saveAll = box.querySelector("[data-save-all]");
    if (saveAll) { saveAll.hidden = !any; }
  }

  function say(text) {
    var box = summary();
    var status = box && box.querySelector("[data-status]");
    if (status) { status.textContent = text; }
  }

  // ------------------------------------------------------------ saving without reloading

  function swapLiveRegions(doc) {
    doc.querySelectorAll("[data-live]").forEach(function (fresh) {
      var name = fresh.getAttribute("data-live");
      var current = document.querySelector(attributeIs("data-live", name));
      if (current) {
        current.replaceWith(fresh);
        reveal(fresh);
      }
    });
  }

  /* The page's messages ("Indicator 8.2 was saved.") go in the summary, which stays in sight;
   * those of the previous save go away. */
  function showMessages(doc) {
    document.querySelectorAll("main > .alert[role=alert]").forEach(function (old) { old.remove(); });
    var box = summary();
    var status = box && box.querySelector("[data-status]");
    if (!status) { return; }
    status.textContent = "";
    doc.querySelectorAll("main > .alert[role=alert]").forEach(function (message) {
      message.classList.add("py-1", "px-2", "mb-0", "mt-1");
      status.appendChild(message);
    });
  }

  function takeVersion(version) {
    if (!version) { return; }
    document.querySelectorAll(SECTION_FORMS + ' input[name$="-version"]').forEach(function (input) {
      input.value = version;
    });
  }

  /* Saves go one after the other: each posts the version the one before it left, so saving
   * two indicators in quick succession on a slow link does not collide with one's own save.
   * Resolves true when the form was saved without a problem. */
  var queue = Promise.resolve(true);
  function save(form) {
    var code = form.getAttribute("data-section-form");
    form.querySelectorAll('button[type="submit"]').forEach(function (button) { button.disabled = true; });
    var run = queue.then(function () {
      // an earlier save may have swapped this section in again: post the form now on the page
      var current = document.querySelector(SECTION_FORMS + attributeIs("data-section-form", code));
      return post(current || form);
    });
    queue = run.catch(function () { return false; });
    return run;
  }

  /* Post one indicator's form; resolves true when it was saved without a problem. */
  function post(form) {
    var section = form.closest("section[id]");
    var buttons = form.querySelectorAll('button[type="submit"]');
    buttons.forEach(function (button) { button.disabled = true; });
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = section && doc.getElementById(section.id);
        if (!fresh) {  // not the assessment page (logged out, an error): post it the plain way
          leavingWith = form;  // being posted: leaving the page loses nothing of it
          HTMLFormElement.prototype.submit.call(form);
          return false;
        }
        // A save redirects to the page (its message says so); a refused entry is shown again
        // with what is wrong (200), a conflict with the other person's changes (409).
        var problem = !response.redirected || doc.querySelector("main > .alert-danger[role=alert]") !== null;
        section.replaceWith(fresh);
        reveal(fresh);
        var freshForm = fresh.querySelector(SECTION_FORMS);
        if (freshForm && problem) { freshForm.setAttribute("data-dirty", ""); }
        swapLiveRegions(doc);
        showMessages(doc);
        takeVersion(summary() && summary().getAttribute("data-version"));
        showUnsaved();
        if (problem) { fresh.scrollIntoView({ block: "start" }); }
        return !problem;
      });
    }).catch(function () {
      buttons.forEach(function (button) { button.disabled = false; });
      var box = summary();
      say(box ? box.getAttribute("data-offline") : "");
      return false;
    });
  }

  function saveAll() {
    var codes = Array.prototype.map.call(
      document.querySelectorAll(SECTION_FORMS + "[data-dirty]"),
      function (form) { return form.getAttribute("data-section-form"); }
    );
    return codes.reduce(function (previous, code) {
      return previous.then(function (ok) {
        var form = document.querySelector(SECTION_FORMS + attributeIs("data-section-form", code));
        return ok && form ? save(form) : false;
      });
    }, Promise.resolve(true));
  }

  // ------------------------------------------------------------ wiring

  reveal(document);
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-fill]");
    if (button) {
      fill(button);
      return;
    }
    if (event.target.closest("button[data-save-all]")) { saveAll(); }
  });
  function markDirty(event) {
    var form = event.target.closest && event.target.closest(SECTION_FORMS);
    if (form && !form.hasAttribute("data-dirty")) {
      form.setAttribute("data-dirty", "");
      showUnsaved();
    }
  }
  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches(SECTION_FORMS)) { return; }
    if (typeof window.fetch !== "function") {  // posted the plain way: its changes go with it
      leavingWith = form;
      return;
    }
    event.preventDefault();
    save(form);
  });
  // Leaving the page (a link, the submit button, closing the tab) while an indicator has
  // changes not saved: the browser asks first, in its own words.
  // The form being posted the plain way does not count (its changes go with it); it keeps its
  // mark, so that if the user chooses to stay, it is still shown as not saved.
  window.addEventListener("beforeunload", function (event) {
    var posting = leavingWith;
    leavingWith = null;
    var unsaved = Array.prototype.some.call(
      document.querySelectorAll(SECTION_FORMS + "[data-dirty]"),
      function (form) { return form !== posting; }
    );
    if (!unsaved) { return; }
    event.preventDefault();
    event.returnValue = "";  // what older browsers need to ask
  });
})();
