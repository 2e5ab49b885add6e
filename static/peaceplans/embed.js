/*
 * The embeds' one script (templates/embed/base.html): tells the page that frames the embed how
 * tall the embed is, so the <iframe> grows to its content instead of scrolling inside an article.
 *
 * It speaks the child's half of pym.js (v1), which newsroom CMSs already run, and which our own
 * host script (embed-host.js) also understands: each message is one string,
 *   "pym" xPYMx <childId> xPYMx <type> xPYMx <message>
 * with type "height" and the height in CSS pixels. pym's parent puts childId (with initialWidth,
 * parentTitle and parentUrl) in the embed's address; a childId that is not a short token of
 * letters, digits, "_" and "-" is ignored (the id is then empty, which a pym parent never
 * matches), so nothing a framing page puts in the address goes anywhere but this string.
 *
 * The height is sent when the page has loaded, whenever the content's size changes (a narrower
 * frame, a <details> opened, fonts), and whenever the parent asks: pym's parent sends "width"
 * when its own width changes, and embed-host.js sends it once it is ready, in case it missed
 * the first message. It reads nothing from the parent but that request, and writes no HTML.
 */
(function () {
  "use strict";

  if (window.parent === window) {
    return; // opened on its own, not framed: nobody to tell
  }

  var DELIMITER = "xPYMx";
  var ID = /^[A-Za-z0-9_-]{1,64}$/;
  var given = new URLSearchParams(window.location.search).get("childId");
  var childId = given !== null && ID.test(given) ? given : "";
  var lastSent = -1;

  function contentHeight() {
    // The <html> element's own box: as tall as the content, whatever the frame's height (its
    // scrollHeight is never less than the frame, so it could grow the frame but never shrink it).
    return Math.ceil(document.documentElement.getBoundingClientRect().height);
  }

  function sendHeight(always) {
    var height = contentHeight();
    if (height === lastSent && !always) {
      return;
    }
    lastSent = height;
    // "*": the framing page may be any site; the message is only a number it could measure anyway.
    window.parent.postMessage(["pym", childId, "height", String(height)].join(DELIMITER), "*");
  }

  function onChange() {
    sendHeight(false);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || typeof event.data !== "string") {
      return;
    }
    var parts = event.data.split(DELIMITER);
    if (parts.length === 4 && parts[0] === "pym" && parts[1] === childId && parts[2] === "width") {
      sendHeight(true);
    }
  });
  window.addEventListener("load", onChange);
  window.addEventListener("resize", onChange);
  document.addEventListener("toggle", onChange, true); // <details> opened or closed; toggle does not bubble
  if ("ResizeObserver" in window) {
    new ResizeObserver(onChange).observe(document.documentElement);
  }
  sendHeight(true); // deferred script: the document is parsed; images and fonts may still change it
})();
