// Keyboard shortcuts for the dispatcher console (a twelve-hour shift on a laptop).
// j/k move through the queue, o opens, v asks verifiers (Enter confirms, as a click would),
// c/f/n prepare a verdict or note (the reason is still required; Ctrl+Enter sends), ? shows
// the list. No key fires while typing in a field. The selection is kept across the queue's
// htmx refresh and across page loads (sessionStorage, this tab only).
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) return;
  var me = document.currentScript || document.querySelector("script[data-verify-prompt]");
  var text = function (name) { return me.getAttribute("data-" + name) || ""; };
  var help = document.getElementById("shortcuts");
  var toggle = document.getElementById("shortcuts-toggle");
  var status = document.getElementById("kb-status");
  var open = document.querySelector(".selected[data-incident]");
  var form = document.getElementById("decide");
  var note = document.getElementById("note");
  var pendingLine = document.getElementById("pending");
  var KEY = "defensa.console.selected:" + location.pathname;
  var selected = (open && open.getAttribute("data-incident")) || sessionStorage.getItem(KEY) || "";
  var pending = null; // the button of the verdict or note being prepared

  toggle.hidden = false;

  function say(message) {
    // Re-set so that the same words are announced again.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = message; }, 30);
  }

  function items() {
    return Array.prototype.slice.call(queue.querySelectorAll("li.incident[data-incident]"));
  }

  function current() {
    return queue.querySelector('li.incident[data-incident="' + selected + '"]');
  }

  function mark(focus, verb) {
    items().forEach(function (li) {
      var on = li.getAttribute("data-incident") === selected;
      li.classList.toggle("kb-selected", on);
      var target = (verb && li.querySelector('button[data-verb="' + verb + '"]')) || li.querySelector("h3 a");
      if (on) {
        li.setAttribute("aria-current", "true");
        if (focus && target) target.focus();
      } else {
        li.removeAttribute("aria-current");
      }
    });
    document.dispatchEvent(new CustomEvent("defensa:select", { detail: { incident: selected } }));
  }

  function move(step) {
    var list = items();
    if (!list.length) return;
    var at = list.indexOf(current());
    var next = at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    selected = list[next].getAttribute("data-incident");
    sessionStorage.setItem(KEY, selected);
    mark(true);
    list[next].scrollIntoView({ block: "nearest" });
  }

  function openSelected(hash) {
    var li = current();
    if (!li) { say(text("none")); return; }
    var link = li.querySelector("h3 a");
    window.location.href = link.href + (hash || "");
  }

  function askVerifiers() {
    var li = current();
    if (!li) { say(text("none")); return; }
    var button = li.querySelector('button[data-verb="verify"]');
    if (!button) { say(text("not-verifiable")); return; }
    // The same step as with the mouse: the button, focused; Enter presses it, Esc leaves it.
    button.focus();
    say(text("verify-prompt"));
  }

  function prepare(verb) {
    if (!form || !open || (selected && open.getAttribute("data-incident") !== selected)) {
      // The verdict is given on the open incident: open the selected one first.
      if (current()) openSelected("#do-" + verb);
      else say(text("none"));
      return;
    }
    var button = form.querySelector('button[data-verb="' + verb + '"]');
    if (!button) { say(form.getAttribute("data-not-possible")); return; }
    pending = button;
    pendingLine.textContent = button.getAttribute("data-prompt");
    pendingLine.hidden = false;
    note.focus();
    say(button.getAttribute("data-prompt"));
  }

  function cancel() {
    pending = null;
    if (pendingLine) { pendingLine.hidden = true; pendingLine.textContent = ""; }
  }

  function showHelp(show) {
    help.hidden = !show;
    toggle.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) help.scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  toggle.addEventListener("click", function () { showHelp(help.hidden); });

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing) return;
    if (typing(e.target)) {
      if (e.target === note && e.key === "Escape") { cancel(); note.blur(); e.preventDefault(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var handled = true;
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": openSelected(""); break;
      case "v": askVerifiers(); break;
      case "c": prepare("confirm"); break;
      case "f": prepare("false_alarm"); break;
      case "n": prepare("note"); break;
      case "?": showHelp(help.hidden); break;
      case "Escape":
        if (!help.hidden) showHelp(false);
        else if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
        break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });

  if (note) {
    note.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
      e.preventDefault();
      var button = pending || form.querySelector('button[data-verb="note"]');
      if (!note.value.trim()) {
        // As with the mouse, a verdict or note needs words; say so here, before sending.
        say(button.getAttribute("data-verb") === "note" ? form.getAttribute("data-empty-note") : form.getAttribute("data-empty"));
        return;
      }
      button.click();
    });
  }

  // The queue is replaced every few seconds: put the selection (and the focus) back.
  // A focused "Request verification" button (after v) gets the focus back, not the link,
  // so the Enter that follows still does what the dispatcher was told it would.
  var hadFocus = false;
  var focusedVerb = "";
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.target !== queue) return;
    hadFocus = queue.contains(document.activeElement);
    focusedVerb = hadFocus ? document.activeElement.getAttribute("data-verb") || "" : "";
  });
  document.body.addEventListener("htmx:afterSettle", function (e) {
    if (e.target === queue) mark(hadFocus, focusedVerb);
  });

  mark(false);
  var wanted = /^#do-(confirm|false_alarm|note)$/.exec(location.hash);
  if (wanted) {
    history.replaceState(null, "", location.pathname + location.search);
    prepare(wanted[1]);
  }
})();
