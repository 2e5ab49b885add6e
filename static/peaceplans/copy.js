/*
 * "Copy link", "Copy citation" and "Copy embed code" (templates/peaceplans/components/).
 *
 * Without this script "Copy link" is a plain link to the permalink and the copy buttons stay
 * hidden: the citation and the embed code can still be selected by hand. With it:
 *   <a href="…" data-copy>            copies its href instead of navigating;
 *   <a href="…" data-copy="location"> copies the address bar, which htmx keeps a permalink
 *                                     of what is on screen (hx-push-url);
 *   <button data-copy-from="ID">      copies the text of the element with that id.
 * The outcome is announced in the nearest [data-copy-status] (role="status").
 * One listener on the document, so regions that htmx swaps in work without setup.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("can-copy");

  function fallbackCopy(text) {
    // Older browsers and insecure origins have no Clipboard API: copy from a hidden textarea.
    const buffer = document.createElement("textarea");
    buffer.value = text;
    buffer.setAttribute("readonly", "");
    buffer.className = "copy-buffer";
    document.body.appendChild(buffer);
    buffer.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    buffer.remove();
    return copied;
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (error) {
        // Permission refused or document not focused: try the old way.
      }
    }
    return fallbackCopy(text);
  }

  function announce(control, message) {
    const group = control.closest("[data-copy-group]");
    const status = group && group.querySelector("[data-copy-status]");
    if (!status) return;
    status.textContent = "";
    // A fresh text node each time, so screen readers announce a second copy too.
    window.setTimeout(function () { status.textContent = message; }, 50);
  }

  function selectSource(source) {
    if (source.select) {
      source.focus();
      source.select();
    } else {
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  document.addEventListener("click", async function (event) {
    const link = event.target.closest("a[data-copy]");
    const button = link ? null : event.target.closest("button[data-copy-from]");
    if (!link && !button) return;
    if (link && (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button !== 0)) return;
    event.preventDefault();
    if (link) {
      const text = link.dataset.copy === "location" ? window.location.href : link.href;
      if (await copyText(text)) {
        announce(link, "Link copied");
      } else {
        announce(link, "Could not copy: the link is " + text);
      }
      return;
    }
    const source = document.getElementById(button.dataset.copyFrom);
    if (!source) return;
    const text = source.value !== undefined ? source.value : source.textContent;
    if (await copyText(text)) {
      announce(button, button.dataset.copyDone || "Copied");
    } else {
      selectSource(source);
      announce(button, "Could not copy: the text is selected, press Ctrl+C (⌘C on a Mac)");
    }
  });
})();
