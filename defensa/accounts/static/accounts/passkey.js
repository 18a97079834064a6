/* Defensa passkeys: the browser half of WebAuthn. Our own code, no dependencies.
 *
 * A <form class="js-passkey" data-mode="login|register" data-options-url data-verify-url>
 * asks the server for options, runs the browser ceremony, and posts the result back as
 * JSON. The CSRF token comes from the form's hidden input (the cookie is HttpOnly).
 */
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBytes(d.id), transports: d.transports };
    });
  }

  function creationOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    o.excludeCredentials = decodeDescriptors(o.excludeCredentials);
    return o;
  }

  function requestOptions(o) {
    o.challenge = toBytes(o.challenge);
    o.allowCredentials = decodeDescriptors(o.allowCredentials);
    return o;
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) { response.userHandle = toB64url(r.userHandle); }
    }
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: response,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      authenticatorAttachment: cred.authenticatorAttachment || undefined
    };
  }

  function post(url, form, body) {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {})
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok || data.error) {
          var err = new Error(data.error || form.dataset.failed);
          err.redirect = data.redirect;
          err.fromServer = true;
          throw err;
        }
        return data;
      });
    });
  }

  function run(form, status, button) {
    var register = form.dataset.mode === "register";
    var nameInput = form.querySelector("input[name=name]");
    button.disabled = true;
    status.textContent = "";
    post(form.dataset.optionsUrl, form)
      .then(function (data) {
        var options = JSON.parse(data.options);
        return register
          ? navigator.credentials.create({ publicKey: creationOptions(options) })
          : navigator.credentials.get({ publicKey: requestOptions(options) });
      })
      .then(function (cred) {
        var body = { credential: credentialJSON(cred) };
        if (register && nameInput) { body.name = nameInput.value; }
        return post(form.dataset.verifyUrl, form, body);
      })
      .then(function (data) { window.location.assign(data.redirect); })
      .catch(function (err) {
        status.textContent = err && err.fromServer ? err.message : form.dataset.failed;
        if (err && err.redirect) { window.location.assign(err.redirect); }
        button.disabled = false;
      });
  }

  function init() {
    var supported = !!(window.PublicKeyCredential && navigator.credentials && window.fetch);
    document.querySelectorAll(".js-passkey-nojs").forEach(function (note) {
      var form = document.querySelector(".js-passkey");
      if (supported) { note.hidden = true; } else if (form) { note.textContent = form.dataset.unsupported; }
    });
    if (!supported) { return; }
    document.querySelectorAll("form.js-passkey").forEach(function (form) {
      var status = form.querySelector(".passkey-status");
      var button = form.querySelector("button[type=submit]");
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        run(form, status, button);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
