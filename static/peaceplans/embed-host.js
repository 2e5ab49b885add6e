/*
 * For the pages that frame our embeds: makes each embed's <iframe> exactly as tall as its
 * content, so it never scrolls inside the article. The embed snippet (web/sharing.py) loads this
 * file after the <iframe>; pages that run pym.js need it not (the embed speaks pym's messages).
 *
 * It looks after every <iframe data-peaceplans-embed>, including ones added later. The embed
 * (static/peaceplans/embed.js) posts "pym" xPYMx <childId> xPYMx "height" xPYMx <pixels>; a
 * message is believed only when it comes from that frame's own window, from the origin of the
 * frame's src, and names the frame's childId (the one in its src, or none). Frames are told apart
 * by the window that sent the message, not by ids, so two copies of one embed on a page, or a
 * message forged by another frame, cannot resize the wrong frame, and no src is rewritten (which
 * would load the embed twice). Each frame still gets an id of its own (data-peaceplans-child-id),
 * which is how it is asked for its height: pym's "width" message, sent when this script starts and
 * whenever a frame loads, in case the embed spoke before anyone was listening.
 *
 * Sets only the frame's height; reads nothing else from the embed, writes no HTML.
 */
(function () {
  "use strict";

  var DELIMITER = "xPYMx";
  var SELECTOR = "iframe[data-peaceplans-embed]";
  var MAX_HEIGHT = 100000;
  var host = window.peaceplansEmbedHost;

  if (host) {
    host.askAll(); // the snippet pasted twice: one listener is enough, but ask the new frames
    return;
  }

  var counter = 0;

  function frameOrigin(frame) {
    try {
      return new URL(frame.src, document.baseURI).origin;
    } catch (error) {
      return null;
    }
  }

  function expectedChildId(frame) {
    try {
      return new URL(frame.src, document.baseURI).searchParams.get("childId") || "";
    } catch (error) {
      return null;
    }
  }

  function ask(frame) {
    var origin = frameOrigin(frame);
    if (!frame.contentWindow || !origin || origin === "null") {
      return;
    }
    var id = expectedChildId(frame);
    var width = String(frame.getBoundingClientRect().width | 0);
    frame.contentWindow.postMessage(["pym", id, "width", width].join(DELIMITER), origin);
  }

  function adopt(frame) {
    if (frame.hasAttribute("data-peaceplans-child-id")) {
      return;
    }
    counter += 1;
    frame.setAttribute("data-peaceplans-child-id", "peaceplans-embed-" + counter);
    frame.addEventListener("load", function () {
      ask(frame);
    });
  }

  function askAll() {
    var frames = document.querySelectorAll(SELECTOR);
    for (var i = 0; i < frames.length; i += 1) {
      adopt(frames[i]);
      ask(frames[i]);
    }
  }

  function onMessage(event) {
    if (typeof event.data !== "string") {
      return;
    }
    var parts = event.data.split(DELIMITER);
    if (parts.length !== 4 || parts[0] !== "pym" || parts[2] !== "height" || !/^\d{1,6}$/.test(parts[3])) {
      return;
    }
    var frames = document.querySelectorAll(SELECTOR);
    for (var i = 0; i < frames.length; i += 1) {
      var frame = frames[i];
      if (frame.contentWindow !== event.source) {
        continue;
      }
      if (event.origin !== frameOrigin(frame) || parts[1] !== expectedChildId(frame)) {
        return;
      }
      var height = parseInt(parts[3], 10);
      if (height > 0 && height <= MAX_HEIGHT) {
        adopt(frame);
        frame.setAttribute("height", String(height));
        frame.style.height = height + "px"; // over any CSS height the article gives iframes
      }
      return;
    }
  }

  window.addEventListener("message", onMessage);
  window.peaceplansEmbedHost = { askAll: askAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", askAll);
  }
  askAll();
})();
