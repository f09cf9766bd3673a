// stepdance dashboard: the one script. An element with data-live="URL" is replaced by each fragment the
// server sends on that event stream (rendered and escaped on the server), until the stream says "end".
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const element of document.querySelectorAll("[data-live]")) {
    const source = new EventSource(element.dataset.live);
    source.onmessage = (event) => {
      element.innerHTML = event.data;
      element.dataset.updated = String(Date.now());
    };
    source.addEventListener("end", () => {
      source.close();
      element.dataset.ended = "true";
    });
    source.onerror = () => element.classList.add("live-off");
    source.onopen = () => element.classList.remove("live-off");
  }
});
