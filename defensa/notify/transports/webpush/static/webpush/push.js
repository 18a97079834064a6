// Progressive enhancement: turn device notifications on or off for this browser. Without
// JavaScript, or in a browser without Web Push, this control never appears. The service
// worker is registered only when the person turns notifications on, never on other pages.
(function () {
  var box = document.getElementById("push-control");
  if (!box) return;
  var section = box.closest("[data-push-section]");
  var ios = section.querySelector('[data-push="ios"]');
  var supported =
    "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported) {
    // Safari on iPhone and iPad has Web Push only in an app added to the home screen.
    if (navigator.standalone === false) {
      section.hidden = false;
      ios.hidden = false;
    }
    return;
  }
  section.hidden = false;
  box.hidden = false;
  var on = box.querySelector('[data-push="on"]');
  var off = box.querySelector('[data-push="off"]');
  var status = box.querySelector('[data-push="status"]');
  var csrf = box.querySelector('input[name="csrfmiddlewaretoken"]').value;

  function applicationServerKey() {
    var text = box.getAttribute("data-key").replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(text + "===".slice((text.length + 3) % 4));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function post(url, fields) {
    var body = new FormData();
    Object.keys(fields).forEach(function (name) {
      body.append(name, fields[name]);
    });
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf }
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) throw new Error(answer.message || "");
        return answer;
      });
    });
  }

  function current() {
    return navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    });
  }

  function show(subscription) {
    on.hidden = !!subscription;
    off.hidden = !subscription;
  }

  function busy(button, promise) {
    button.disabled = true;
    status.textContent = box.getAttribute("data-working");
    return promise
      .catch(function (error) {
        status.textContent = (error && error.message) || box.getAttribute("data-failed");
      })
      .then(function () {
        button.disabled = false;
      });
  }

  current().then(show, function () {
    show(null);
  });

  on.addEventListener("click", function () {
    busy(
      on,
      Notification.requestPermission()
        .then(function (permission) {
          if (permission !== "granted") throw new Error(box.getAttribute("data-denied"));
          return navigator.serviceWorker.register(box.getAttribute("data-sw"), { scope: "/" });
        })
        .then(function () {
          return navigator.serviceWorker.ready;
        })
        .then(function (reg) {
          // A subscription made with an older server key cannot be reused: start afresh.
          return reg.pushManager.getSubscription().then(function (old) {
            return (old ? old.unsubscribe() : Promise.resolve()).then(function () {
              return reg.pushManager.subscribe({
                userVisibleOnly: true,
                applicationServerKey: applicationServerKey()
              });
            });
          });
        })
        .then(function (subscription) {
          var json = subscription.toJSON();
          return post(box.getAttribute("data-subscribe"), {
            endpoint: json.endpoint,
            p256dh: json.keys.p256dh,
            auth: json.keys.auth
          }).then(function () {
            status.textContent = box.getAttribute("data-done-on");
            show(subscription);
          });
        })
    );
  });

  off.addEventListener("click", function () {
    busy(
      off,
      current().then(function (subscription) {
        if (!subscription) return show(null);
        return post(box.getAttribute("data-unsubscribe"), { endpoint: subscription.endpoint })
          .then(function () {
            return subscription.unsubscribe();
          })
          .then(function () {
            status.textContent = box.getAttribute("data-done-off");
            show(null);
          });
      })
    );
  });
})();
