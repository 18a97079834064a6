{% autoescape off %}// Defensa's service worker. It shows device notifications and opens them, nothing else.
// It has no fetch handler and uses no cache: every page still comes from the server, and
// signed-in pages stay `no-store`, never kept on the device.
"use strict";
var HOME = "{{ home|escapejs }}";
var ICON = "{{ icon|escapejs }}";
var BADGE = "{{ badge|escapejs }}";
var NAME = "{{ network_name|escapejs }}";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

// Only our own pages open from a notification, whatever a payload says.
function ownUrl(value) {
  try {
    var url = new URL(value, self.location.origin);
    if (url.origin === self.location.origin) return url.href;
  } catch (e) {}
  return new URL(HOME, self.location.origin).href;
}

function text(value, fallback) {
  return typeof value === "string" && value ? value : fallback;
}

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = {};
  }
  var options = {
    body: text(data.body, ""),
    icon: ICON,
    badge: BADGE,
    data: { url: ownUrl(text(data.url, HOME)) }
  };
  if (typeof data.tag === "string" && data.tag) options.tag = data.tag;
  event.waitUntil(self.registration.showNotification(text(data.title, NAME), options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = ownUrl((event.notification.data && event.notification.data.url) || HOME);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i++) {
        if (list[i].url === url && "focus" in list[i]) return list[i].focus();
      }
      return self.clients.openWindow(url);
    })
  );
});
{% endautoescape %}
